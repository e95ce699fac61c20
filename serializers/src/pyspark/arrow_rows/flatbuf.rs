//! A little-endian flatbuffer reader with every offset checked against the
//! slice: enough to walk Arrow's `Message`, `Schema` and batch tables by hand
//! without an Arrow dependency.

#[derive(Clone, Copy)]
pub(super) struct Table<'a> {
    pub buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vt_len: usize,
}

pub(super) fn u16_at(b: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(p..p.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(super) fn u32_at(b: &[u8], p: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(p..p.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(super) fn i64_at(b: &[u8], p: usize) -> Option<i64> {
    Some(i64::from_le_bytes(
        b.get(p..p.checked_add(8)?)?.try_into().ok()?,
    ))
}

impl<'a> Table<'a> {
    pub fn at(buf: &'a [u8], pos: usize) -> Option<Table<'a>> {
        let soff = i64::from(i32::from_le_bytes(
            buf.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ));
        let vtable = usize::try_from(pos as i64 - soff).ok()?;
        let vt_len = usize::from(u16_at(buf, vtable)?);
        Some(Table {
            buf,
            pos,
            vtable,
            vt_len,
        })
    }

    pub fn root(buf: &'a [u8]) -> Option<Table<'a>> {
        Table::at(buf, u32_at(buf, 0)? as usize)
    }

    /// The absolute position of field `i`, or `None` when it is absent.
    pub fn field(&self, i: usize) -> Option<usize> {
        let entry = 4 + 2 * i;
        if entry + 2 > self.vt_len {
            return None;
        }
        match u16_at(self.buf, self.vtable + entry)? {
            0 => None,
            off => self.pos.checked_add(usize::from(off)),
        }
    }

    pub fn u8_or(&self, i: usize, default: u8) -> Option<u8> {
        match self.field(i) {
            None => Some(default),
            Some(p) => self.buf.get(p).copied(),
        }
    }

    pub fn i16_or(&self, i: usize, default: i16) -> Option<i16> {
        match self.field(i) {
            None => Some(default),
            Some(p) => u16_at(self.buf, p).map(|v| v as i16),
        }
    }

    pub fn i32_or(&self, i: usize, default: i32) -> Option<i32> {
        match self.field(i) {
            None => Some(default),
            Some(p) => u32_at(self.buf, p).map(|v| v as i32),
        }
    }

    pub fn i64_or(&self, i: usize, default: i64) -> Option<i64> {
        match self.field(i) {
            None => Some(default),
            Some(p) => i64_at(self.buf, p),
        }
    }

    /// The position an offset field points to.
    fn indirect(&self, i: usize) -> Option<Option<usize>> {
        match self.field(i) {
            None => Some(None),
            Some(p) => Some(Some(p.checked_add(u32_at(self.buf, p)? as usize)?)),
        }
    }

    pub fn table(&self, i: usize) -> Option<Option<Table<'a>>> {
        match self.indirect(i)? {
            None => Some(None),
            Some(p) => Table::at(self.buf, p).map(Some),
        }
    }

    /// A string field; `None` inside when absent.
    pub fn opt_string(&self, i: usize) -> Option<Option<String>> {
        match self.indirect(i)? {
            None => Some(None),
            Some(p) => {
                let n = u32_at(self.buf, p)? as usize;
                let b = self.buf.get(p + 4..(p + 4).checked_add(n)?)?;
                Some(Some(String::from_utf8_lossy(b).into_owned()))
            }
        }
    }

    pub fn string(&self, i: usize) -> Option<String> {
        self.opt_string(i).map(Option::unwrap_or_default)
    }

    /// A vector field: (position of the first element, element count).
    pub fn vector(&self, i: usize) -> Option<(usize, usize)> {
        match self.indirect(i)? {
            None => Some((0, 0)),
            Some(p) => Some((p + 4, u32_at(self.buf, p)? as usize)),
        }
    }
}
