//! The output buffer with CPython's protocol-4 framing rules (`_pickle.c`):
//! a frame opens on the first write after the previous one closed, is committed
//! at the start of a `save()` once it holds ≥ 64 KiB, loses its header when it
//! ends up shorter than 4 bytes, and payloads of ≥ 64 KiB bypass framing.

pub(crate) const FRAME_SIZE_TARGET: usize = 64 * 1024;
const FRAME_SIZE_MIN: usize = 4;
pub(crate) const FRAME_HEADER: usize = 9;
const FRAME: u8 = 0x95;

/// An atom's bytes (see `atoms.rs`): the first `len` of `lo` then `hi`,
/// little-endian, two registers stored whole by [`Out::atom`]. Defined here,
/// with the writer, so that the output does not depend on the atoms module.
pub(crate) struct Atom {
    pub(crate) lo: u64,
    pub(crate) hi: u64,
    pub(crate) len: usize,
}

pub(crate) struct Out {
    pub(crate) buf: Vec<u8>,
    framing: bool,
    frame_start: Option<usize>,
    /// The output length at which the next `save()` must leave the slow way:
    /// where the open frame reaches the commit size, 0 while framing with no
    /// frame open (the next write opens one), `usize::MAX` without framing.
    /// [`Out::atom`] compares against it alone.
    limit: usize,
}

impl Out {
    /// Appends to `buf` (frame positions are absolute, so what it holds
    /// already is left alone).
    pub(crate) fn from_vec(buf: Vec<u8>) -> Out {
        Out {
            buf,
            framing: false,
            frame_start: None,
            limit: usize::MAX,
        }
    }

    #[inline]
    fn refresh_limit(&mut self) {
        self.limit = match (self.framing, self.frame_start) {
            (false, _) => usize::MAX,
            (true, None) => 0,
            (true, Some(start)) => start + FRAME_HEADER + FRAME_SIZE_TARGET,
        };
    }

    pub(crate) fn start_framing(&mut self) {
        self.framing = true;
        self.refresh_limit();
    }

    /// Opens a frame when framing with none open (the only state in which
    /// `limit` is 0).
    #[inline(always)]
    fn open_frame(&mut self) {
        if self.limit == 0 {
            self.open_frame_now();
        }
    }

    #[cold]
    fn open_frame_now(&mut self) {
        debug_assert!(self.framing && self.frame_start.is_none());
        self.frame_start = Some(self.buf.len());
        self.buf.extend_from_slice(&[0xFE; FRAME_HEADER]);
        self.refresh_limit();
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.open_frame();
        self.buf.push(b);
    }

    #[inline]
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.open_frame();
        self.buf.extend_from_slice(b);
    }

    /// Room for `n` more bytes (a hint: writes grow the buffer anyway).
    #[inline]
    pub(crate) fn reserve(&mut self, n: usize) {
        self.buf.reserve(n);
    }

    /// `save()` of an atom: the opcode boundary, then its bytes, in one
    /// comparison while the open frame has room. The atom's two words are
    /// stored whole and the buffer cut back to its length (one fixed-size
    /// store instead of a copy of a variable length).
    #[inline(always)]
    pub(crate) fn atom(&mut self, a: &Atom) {
        if self.buf.len() >= self.limit {
            self.boundary_check();
            self.open_frame();
        }
        let len = self.buf.len();
        let mut w = [0; 16];
        w[..8].copy_from_slice(&a.lo.to_le_bytes());
        w[8..].copy_from_slice(&a.hi.to_le_bytes());
        self.buf.extend_from_slice(&w);
        self.buf.truncate(len + a.len);
    }

    /// How many bytes can follow before a `save()` must check the frame (0:
    /// it must now, or a frame is to be opened).
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.limit.saturating_sub(self.buf.len())
    }

    /// Bytes of whole opcodes that start within [`Out::room`]: no boundary
    /// among them commits a frame, and a frame is open when framing.
    #[inline]
    pub(crate) fn extend_within_frame(&mut self, b: &[u8]) {
        debug_assert!(self.limit > self.buf.len() || b.is_empty());
        self.buf.extend_from_slice(b);
    }

    /// SHORT_BINUNICODE of a str of at most 255 bytes, then MEMOIZE.
    #[inline]
    pub(crate) fn short_str_memoized(&mut self, b: &[u8]) {
        self.open_frame();
        self.buf.reserve(b.len() + 3);
        self.buf.extend_from_slice(&[0x8c, b.len() as u8]);
        self.buf.extend_from_slice(b);
        self.buf.push(0x94);
    }

    /// `_Pickler_OpcodeBoundary`: called at the start of every `save()`. Below
    /// `limit` the open frame (if any) is short of the target.
    #[inline(always)]
    pub(crate) fn boundary(&mut self) {
        if self.buf.len() >= self.limit {
            self.boundary_check();
        }
    }

    fn boundary_check(&mut self) {
        if let Some(start) = self.frame_start {
            if self.buf.len() - start - FRAME_HEADER >= FRAME_SIZE_TARGET {
                self.commit();
            }
        }
    }

    /// `_Pickler_CommitFrame`.
    pub(crate) fn commit(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        self.refresh_limit();
        let len = self.buf.len() - start - FRAME_HEADER;
        if len >= FRAME_SIZE_MIN {
            self.buf[start] = FRAME;
            self.buf[start + 1..start + FRAME_HEADER].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.buf.drain(start..start + FRAME_HEADER);
        }
    }

    /// `_Pickler_write_bytes`: an opcode header and its payload; a payload of
    /// 64 KiB or more is written outside any frame.
    pub(crate) fn header_and_payload(&mut self, header: &[u8], payload: &[u8]) {
        if payload.len() >= FRAME_SIZE_TARGET && self.framing {
            self.commit();
            self.buf.extend_from_slice(header);
            self.buf.extend_from_slice(payload);
        } else {
            self.bytes(header);
            self.bytes(payload);
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.commit();
        self.buf
    }
}
