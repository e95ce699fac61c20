//! Bounds on what a peer can make the py4j decoder hold.

/// Limits checked while a command's lines arrive, before the decoder keeps
/// waiting for more of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, in bytes, without its `\n`.
    ///
    /// Default 256 MiB. py4j has no limit, and PySpark puts whole pickled
    /// closures on one line (`SimplePythonFunction`'s `j` command bytes, base64,
    /// so 4/3 of the pickle); closures capturing large data reach tens of MB.
    /// 256 MiB matches the framing layer's largest frame.
    pub max_line_len: usize,
    /// Most argument lines in one command (or indices in a slice).
    ///
    /// Default 2^20. Java methods take at most 255 parameters, but slices send
    /// one part per index (`java_array[0:100000]` is 100 000 lines); each line
    /// costs the decoder 16 bytes of bookkeeping, so the default caps that at
    /// 16 MiB.
    pub max_args: usize,
    /// Most bytes in one command, all lines together.
    ///
    /// Default 512 MiB: two maximal lines, so one huge argument fits with room
    /// for the rest of its call.
    pub max_command_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_len: 256 << 20,
            max_args: 1 << 20,
            max_command_len: 512 << 20,
        }
    }
}
