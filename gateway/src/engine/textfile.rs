//! Text input as Hadoop's `TextInputFormat` reads it for `sc.textFile`: files
//! cut into splits (`FileInputFormat.getSplits` with the local file system's
//! 32 MiB block size and 10 % slop), each split yielding the lines that start
//! in it (`LineRecordReader`: `\n`, `\r` and `\r\n` end a line, a split skips
//! its first partial line), compressed files (by extension) read whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The local file system's block size (`fs.local.block.size`).
const BLOCK_SIZE: u64 = 32 * 1024 * 1024;
/// `FileInputFormat.SPLIT_SLOP`.
const SPLIT_SLOP: f64 = 1.1;

/// One split of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// The file.
    pub path: PathBuf,
    /// First byte.
    pub start: u64,
    /// Length in bytes (the whole file for compressed input).
    pub len: u64,
    /// Read through a decompressor (not splittable): `.gz` or `.deflate`.
    pub gzip: bool,
}

/// Why the input could not be listed or read.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// Nothing at the path (Hadoop's `InvalidInputException`).
    #[error("Input path does not exist: file:{0}")]
    Missing(String),
    /// A read failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TextError + '_ {
    move |source| TextError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The files behind a path: the file itself, or a directory's visible files
/// (names not starting with `_` or `.`, as Hadoop's hidden-file filter), sorted.
/// Comma-separated paths are read in turn.
pub fn list_inputs(path: &str) -> Result<Vec<PathBuf>, TextError> {
    let mut out = Vec::new();
    for p in split_paths(path) {
        let p = p
            .strip_prefix("file://")
            .or_else(|| p.strip_prefix("file:"))
            .unwrap_or(&p)
            .to_owned();
        if p.contains(['*', '?', '[', '{']) {
            let matches = glob(&p);
            if matches.is_empty() {
                return Err(TextError::Missing(p.clone()));
            }
            // Each match is a path, not a pattern: list it without globbing again.
            for m in matches {
                out.extend(files_of(&m)?);
            }
            continue;
        }
        let path = Path::new(&p);
        if std::fs::metadata(path).is_err() {
            return Err(TextError::Missing(p.clone()));
        }
        out.extend(files_of(path)?);
    }
    Ok(out)
}

/// A file, or a directory's visible files (names not starting with `_` or
/// `.`, as Hadoop's hidden-file filter), sorted.
fn files_of(path: &Path) -> Result<Vec<PathBuf>, TextError> {
    let meta =
        std::fs::metadata(path).map_err(|_| TextError::Missing(path.display().to_string()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_err(path))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('_') && !n.starts_with('.'))
                && f.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Comma-separated paths, commas inside `{…}` kept (Hadoop's `getPathStrings`).
fn split_paths(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in path.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Hadoop's glob on the local file system: `*`, `?`, `[…]` (with `^`
/// negation and ranges) and `{a,b}` in any path component; matches sorted.
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    let absolute = pattern.starts_with('/');
    let mut current = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    }];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &current {
            if !comp.contains(['*', '?', '[', '{']) {
                let p = base.join(comp);
                if p.exists() {
                    next.push(p);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(base) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| glob_match(comp, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        current = next;
    }
    if !absolute {
        current = current
            .into_iter()
            .map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p))
            .collect();
    }
    current
}

/// One path component against one glob component.
fn glob_match(pattern: &str, name: &str) -> bool {
    // Expand `{a,b}` first (not nested), then match the rest.
    if let (Some(open), Some(close)) = (pattern.find('{'), pattern.find('}')) {
        if open < close {
            let (pre, rest) = pattern.split_at(open);
            let alts = &rest[1..close - open];
            let post = &rest[close - open + 1..];
            return alts
                .split(',')
                .any(|a| glob_match(&format!("{pre}{a}{post}"), name));
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return false;
                };
                let Some(&c) = n.first() else { return false };
                let mut set = &p[1..end];
                let negate = set.first() == Some(&'^');
                if negate {
                    set = &set[1..];
                }
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= c && c <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(&p[end + 1..], &n[1..])
            }
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && go(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}

/// `FileInputFormat.getSplits(job, min_partitions)`.
pub fn splits(files: &[PathBuf], min_partitions: usize) -> Result<Vec<Split>, TextError> {
    let mut sizes = Vec::with_capacity(files.len());
    for f in files {
        sizes.push(std::fs::metadata(f).map_err(io_err(f))?.len());
    }
    let total: u64 = sizes.iter().sum();
    let goal = total / (min_partitions.max(1) as u64);
    let split_size = goal.clamp(1, BLOCK_SIZE);
    let mut out = Vec::new();
    for (f, &len) in files.iter().zip(&sizes) {
        let gzip = f.extension().is_some_and(|e| e == "gz" || e == "deflate");
        if gzip || len == 0 {
            out.push(Split {
                path: f.clone(),
                start: 0,
                len,
                gzip,
            });
            continue;
        }
        let mut remaining = len;
        while remaining as f64 / split_size as f64 > SPLIT_SLOP {
            out.push(Split {
                path: f.clone(),
                start: len - remaining,
                len: split_size,
                gzip: false,
            });
            remaining -= split_size;
        }
        if remaining != 0 {
            out.push(Split {
                path: f.clone(),
                start: len - remaining,
                len: remaining,
                gzip: false,
            });
        }
    }
    Ok(out)
}

/// The lines of a split, without their terminators, decoded as UTF-8 with
/// replacement (Hadoop's `Text` is UTF-8).
pub fn read_split(split: &Split) -> Result<Vec<String>, TextError> {
    let file = File::open(&split.path).map_err(io_err(&split.path))?;
    if split.gzip {
        let decoder: Box<dyn Read> = if split.path.extension().is_some_and(|e| e == "deflate") {
            Box::new(flate2::read::ZlibDecoder::new(file))
        } else {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        };
        let mut r = BufReader::new(decoder);
        let mut lines = Vec::new();
        while let Some((line, _)) = next_line(&mut r).map_err(io_err(&split.path))? {
            lines.push(line);
        }
        return Ok(lines);
    }
    let mut file = file;
    let mut pos = split.start;
    let end = split.start + split.len;
    file.seek(SeekFrom::Start(pos))
        .map_err(io_err(&split.path))?;
    let mut r = BufReader::new(file);
    if split.start != 0 {
        // The first (possibly partial) line belongs to the previous split,
        // which reads every line that starts at or before its end.
        match next_line(&mut r).map_err(io_err(&split.path))? {
            Some((_, consumed)) => pos += consumed,
            None => return Ok(Vec::new()),
        }
    }
    let mut lines = Vec::new();
    // A line is read when it starts at or before the split's end.
    while pos <= end {
        match next_line(&mut r).map_err(io_err(&split.path))? {
            Some((line, consumed)) => {
                pos += consumed;
                lines.push(line);
            }
            None => break,
        }
    }
    Ok(lines)
}

/// One line and the bytes it took (terminator included); `None` at the end.
fn next_line<R: BufRead>(r: &mut R) -> io::Result<Option<(String, u64)>> {
    let mut buf = Vec::new();
    let mut consumed = 0u64;
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok(
                (consumed > 0).then(|| (String::from_utf8_lossy(&buf).into_owned(), consumed))
            );
        }
        match available.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                buf.extend_from_slice(&available[..i]);
                let cr = available[i] == b'\r';
                r.consume(i + 1);
                consumed += i as u64 + 1;
                if cr {
                    // `\r\n` is one terminator.
                    let next = r.fill_buf()?;
                    if next.first() == Some(&b'\n') {
                        r.consume(1);
                        consumed += 1;
                    }
                }
                return Ok(Some((String::from_utf8_lossy(&buf).into_owned(), consumed)));
            }
            None => {
                let n = available.len();
                buf.extend_from_slice(available);
                r.consume(n);
                consumed += n as u64;
            }
        }
    }
}

/// `wholeTextFiles`: each file's path (as a `file:` URI) and whole content.
pub fn whole_files(files: &[PathBuf]) -> Result<Vec<(String, String)>, TextError> {
    files
        .iter()
        .map(|f| {
            let mut text = Vec::new();
            File::open(f)
                .and_then(|mut h| h.read_to_end(&mut text))
                .map_err(io_err(f))?;
            let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
            Ok((
                format!("file:{}", abs.display()),
                String::from_utf8_lossy(&text).into_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_lands_in_exactly_one_split() {
        let dir = std::env::temp_dir().join(format!("sparkwire-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.txt");
        let text = "alpha\nbeta\r\ngamma\rdelta\n\nlast";
        std::fs::write(&f, text).unwrap();
        for parts in 1..8 {
            let s = splits(std::slice::from_ref(&f), parts).unwrap();
            let lines: Vec<String> = s.iter().flat_map(|s| read_split(s).unwrap()).collect();
            assert_eq!(
                lines,
                ["alpha", "beta", "gamma", "delta", "", "last"],
                "{parts} partitions"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
