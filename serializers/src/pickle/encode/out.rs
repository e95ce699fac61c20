//! The output buffer with CPython's protocol-4 framing rules (`_pickle.c`):
//! a frame opens on the first write after the previous one closed, is committed
//! at the start of a `save()` once it holds ≥ 64 KiB, loses its header when it
//! ends up shorter than 4 bytes, and payloads of ≥ 64 KiB bypass framing.

pub(crate) const FRAME_SIZE_TARGET: usize = 64 * 1024;
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER: usize = 9;
const FRAME: u8 = 0x95;

pub(crate) struct Out {
    pub(crate) buf: Vec<u8>,
    framing: bool,
    frame_start: Option<usize>,
}

impl Out {
    pub(crate) fn with_capacity(n: usize) -> Out {
        Out {
            buf: Vec::with_capacity(n),
            framing: false,
            frame_start: None,
        }
    }

    /// Appends to `buf` (frame positions are absolute, so what it holds
    /// already is left alone).
    pub(crate) fn from_vec(buf: Vec<u8>) -> Out {
        Out {
            buf,
            framing: false,
            frame_start: None,
        }
    }

    pub(crate) fn start_framing(&mut self) {
        self.framing = true;
    }

    #[inline]
    fn open_frame(&mut self) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.buf.len());
            self.buf.extend_from_slice(&[0xFE; FRAME_HEADER]);
        }
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

    /// `_Pickler_OpcodeBoundary`: called at the start of every `save()`.
    #[inline]
    pub(crate) fn boundary(&mut self) {
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
            self.framing = false;
            self.buf.extend_from_slice(header);
            self.buf.extend_from_slice(payload);
            self.framing = true;
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
