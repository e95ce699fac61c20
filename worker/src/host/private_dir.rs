//! A private 0700 directory for Unix-domain sockets: file permissions are the
//! only protection a Unix-socket worker has (there is no secret), so the
//! socket must live where no other user can reach it. Removed on drop.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use sparkwire_framing::Secret;

use super::error::LaunchError;

/// A directory only we can enter.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates `sparkwire-<random>` with mode 0700 in the temp directory. Unix
    /// socket paths are short (about 100 bytes), so the name is kept short too.
    pub fn new() -> Result<PrivateDir, LaunchError> {
        let io = |during| move |source| LaunchError::Io { during, source };
        let secret = Secret::generate().map_err(|e| LaunchError::Io {
            during: "naming a private socket directory",
            source: std::io::Error::other(e.to_string()),
        })?;
        let path = std::env::temp_dir().join(format!("sparkwire-{}", &secret.as_str()[..16]));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(io("creating a private socket directory"))?;
        Ok(PrivateDir { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn is_0700_and_removed_on_drop() {
        let dir = PrivateDir::new().unwrap();
        let path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(dir);
        assert!(!path.exists());
    }
}
