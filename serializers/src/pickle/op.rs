//! The pickle opcode table: every opcode of protocols 0–5 with its byte, the
//! protocol that introduced it, how its inline argument is encoded and what it does
//! to the stack. The names, protocols, argument kinds and stack effects are those
//! of CPython's `pickletools.opcodes`, which `dis` must reproduce exactly.

/// How an opcode's inline argument is laid out in the byte stream
/// (the `ArgumentDescriptor`s of `pickletools`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No inline argument.
    None,
    /// One unsigned byte.
    Uint1,
    /// Two bytes, unsigned little-endian.
    Uint2,
    /// Four bytes, signed little-endian.
    Int4,
    /// Four bytes, unsigned little-endian.
    Uint4,
    /// Eight bytes, unsigned little-endian.
    Uint8,
    /// A decimal integer terminated by `\n` (`00`/`01` mean False/True for INT).
    DecimalNlShort,
    /// A decimal integer with an optional trailing `L`, terminated by `\n`.
    DecimalNlLong,
    /// A quoted, backslash-escaped string terminated by `\n` (STRING).
    StringNl,
    /// An unquoted line terminated by `\n` (PERSID).
    StringNlNoescape,
    /// Two unquoted lines (`module\nname\n`), as GLOBAL and INST use.
    StringNlNoescapePair,
    /// u8 length + latin-1 bytes (SHORT_BINSTRING).
    String1,
    /// i32 length + latin-1 bytes (BINSTRING).
    String4,
    /// u8 length + bytes.
    Bytes1,
    /// u32 length + bytes.
    Bytes4,
    /// u64 length + bytes.
    Bytes8,
    /// u64 length + bytes (BYTEARRAY8).
    ByteArray8,
    /// raw-unicode-escape text terminated by `\n` (UNICODE).
    UnicodeStringNl,
    /// u8 length + UTF-8 (surrogatepass).
    UnicodeString1,
    /// u32 length + UTF-8 (surrogatepass).
    UnicodeString4,
    /// u64 length + UTF-8 (surrogatepass).
    UnicodeString8,
    /// A float in `repr` form terminated by `\n`.
    FloatNl,
    /// Eight bytes, big-endian IEEE 754.
    Float8,
    /// u8 length + little-endian two's complement.
    Long1,
    /// i32 length + little-endian two's complement.
    Long4,
}

/// One entry of `pickletools`' symbolic stack: what an opcode pops or pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackItem {
    /// Any object.
    Any,
    /// The MARK object.
    Mark,
    /// Everything above the topmost MARK.
    StackSlice,
}

macro_rules! opcodes {
    ($( $variant:ident = $byte:literal, $name:literal, $arg:ident, $proto:literal,
        [$($before:ident),*] => [$($after:ident),*]; )*) => {
        /// A pickle opcode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum Op { $( $variant = $byte, )* }

        impl Op {
            /// Every opcode, in `pickletools.opcodes` order.
            pub const ALL: &'static [Op] = &[$( Op::$variant, )*];

            /// The opcode for a byte, if there is one.
            pub fn from_byte(b: u8) -> Option<Op> {
                match b { $( $byte => Some(Op::$variant), )* _ => None }
            }
            /// The opcode's byte.
            pub fn byte(self) -> u8 { self as u8 }
            /// The `pickletools` name (`BININT1`, `STACK_GLOBAL`, …).
            pub fn name(self) -> &'static str {
                match self { $( Op::$variant => $name, )* }
            }
            /// The protocol that introduced the opcode.
            pub fn proto(self) -> u8 {
                match self { $( Op::$variant => $proto, )* }
            }
            /// How the inline argument is encoded.
            pub fn arg(self) -> ArgKind {
                match self { $( Op::$variant => ArgKind::$arg, )* }
            }
            /// What the opcode pops, bottom first (as `pickletools` describes it).
            pub fn stack_before(self) -> &'static [StackItem] {
                match self { $( Op::$variant => &[$(StackItem::$before),*], )* }
            }
            /// What the opcode pushes, bottom first.
            pub fn stack_after(self) -> &'static [StackItem] {
                match self { $( Op::$variant => &[$(StackItem::$after),*], )* }
            }
        }
    };
}

opcodes! {
    Int = b'I', "INT", DecimalNlShort, 0, [] => [Any];
    BinInt = b'J', "BININT", Int4, 1, [] => [Any];
    BinInt1 = b'K', "BININT1", Uint1, 1, [] => [Any];
    BinInt2 = b'M', "BININT2", Uint2, 1, [] => [Any];
    Long = b'L', "LONG", DecimalNlLong, 0, [] => [Any];
    Long1 = 0x8a, "LONG1", Long1, 2, [] => [Any];
    Long4 = 0x8b, "LONG4", Long4, 2, [] => [Any];
    String = b'S', "STRING", StringNl, 0, [] => [Any];
    BinString = b'T', "BINSTRING", String4, 1, [] => [Any];
    ShortBinString = b'U', "SHORT_BINSTRING", String1, 1, [] => [Any];
    BinBytes = b'B', "BINBYTES", Bytes4, 3, [] => [Any];
    ShortBinBytes = b'C', "SHORT_BINBYTES", Bytes1, 3, [] => [Any];
    BinBytes8 = 0x8e, "BINBYTES8", Bytes8, 4, [] => [Any];
    ByteArray8 = 0x96, "BYTEARRAY8", ByteArray8, 5, [] => [Any];
    NextBuffer = 0x97, "NEXT_BUFFER", None, 5, [] => [Any];
    ReadonlyBuffer = 0x98, "READONLY_BUFFER", None, 5, [Any] => [Any];
    None = b'N', "NONE", None, 0, [] => [Any];
    NewTrue = 0x88, "NEWTRUE", None, 2, [] => [Any];
    NewFalse = 0x89, "NEWFALSE", None, 2, [] => [Any];
    Unicode = b'V', "UNICODE", UnicodeStringNl, 0, [] => [Any];
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE", UnicodeString1, 4, [] => [Any];
    BinUnicode = b'X', "BINUNICODE", UnicodeString4, 1, [] => [Any];
    BinUnicode8 = 0x8d, "BINUNICODE8", UnicodeString8, 4, [] => [Any];
    Float = b'F', "FLOAT", FloatNl, 0, [] => [Any];
    BinFloat = b'G', "BINFLOAT", Float8, 1, [] => [Any];
    EmptyList = b']', "EMPTY_LIST", None, 1, [] => [Any];
    Append = b'a', "APPEND", None, 0, [Any, Any] => [Any];
    Appends = b'e', "APPENDS", None, 1, [Any, Mark, StackSlice] => [Any];
    List = b'l', "LIST", None, 0, [Mark, StackSlice] => [Any];
    EmptyTuple = b')', "EMPTY_TUPLE", None, 1, [] => [Any];
    Tuple = b't', "TUPLE", None, 0, [Mark, StackSlice] => [Any];
    Tuple1 = 0x85, "TUPLE1", None, 2, [Any] => [Any];
    Tuple2 = 0x86, "TUPLE2", None, 2, [Any, Any] => [Any];
    Tuple3 = 0x87, "TUPLE3", None, 2, [Any, Any, Any] => [Any];
    EmptyDict = b'}', "EMPTY_DICT", None, 1, [] => [Any];
    Dict = b'd', "DICT", None, 0, [Mark, StackSlice] => [Any];
    SetItem = b's', "SETITEM", None, 0, [Any, Any, Any] => [Any];
    SetItems = b'u', "SETITEMS", None, 1, [Any, Mark, StackSlice] => [Any];
    EmptySet = 0x8f, "EMPTY_SET", None, 4, [] => [Any];
    AddItems = 0x90, "ADDITEMS", None, 4, [Any, Mark, StackSlice] => [Any];
    FrozenSet = 0x91, "FROZENSET", None, 4, [Mark, StackSlice] => [Any];
    Pop = b'0', "POP", None, 0, [Any] => [];
    Dup = b'2', "DUP", None, 0, [Any] => [Any, Any];
    Mark = b'(', "MARK", None, 0, [] => [Mark];
    PopMark = b'1', "POP_MARK", None, 1, [Mark, StackSlice] => [];
    Get = b'g', "GET", DecimalNlShort, 0, [] => [Any];
    BinGet = b'h', "BINGET", Uint1, 1, [] => [Any];
    LongBinGet = b'j', "LONG_BINGET", Uint4, 1, [] => [Any];
    Put = b'p', "PUT", DecimalNlShort, 0, [] => [];
    BinPut = b'q', "BINPUT", Uint1, 1, [] => [];
    LongBinPut = b'r', "LONG_BINPUT", Uint4, 1, [] => [];
    Memoize = 0x94, "MEMOIZE", None, 4, [Any] => [Any];
    Ext1 = 0x82, "EXT1", Uint1, 2, [] => [Any];
    Ext2 = 0x83, "EXT2", Uint2, 2, [] => [Any];
    Ext4 = 0x84, "EXT4", Int4, 2, [] => [Any];
    Global = b'c', "GLOBAL", StringNlNoescapePair, 0, [] => [Any];
    StackGlobal = 0x93, "STACK_GLOBAL", None, 4, [Any, Any] => [Any];
    Reduce = b'R', "REDUCE", None, 0, [Any, Any] => [Any];
    Build = b'b', "BUILD", None, 0, [Any, Any] => [Any];
    Inst = b'i', "INST", StringNlNoescapePair, 0, [Mark, StackSlice] => [Any];
    Obj = b'o', "OBJ", None, 1, [Mark, Any, StackSlice] => [Any];
    NewObj = 0x81, "NEWOBJ", None, 2, [Any, Any] => [Any];
    NewObjEx = 0x92, "NEWOBJ_EX", None, 4, [Any, Any, Any] => [Any];
    Proto = 0x80, "PROTO", Uint1, 2, [] => [];
    Stop = b'.', "STOP", None, 0, [Any] => [];
    Frame = 0x95, "FRAME", Uint8, 4, [] => [];
    PersId = b'P', "PERSID", StringNlNoescape, 0, [] => [Any];
    BinPersId = b'Q', "BINPERSID", None, 1, [Any] => [Any];
}

/// Opcode bytes as constants, for the readers that match on raw bytes in
/// their hot loops (`serde_direct`, `rows`): taken from the table above, so
/// that there is one list of opcode values.
pub(crate) mod bytes {
    use super::Op;
    pub const MARK: u8 = Op::Mark as u8;
    pub const STOP: u8 = Op::Stop as u8;
    pub const BININT: u8 = Op::BinInt as u8;
    pub const BININT1: u8 = Op::BinInt1 as u8;
    pub const BININT2: u8 = Op::BinInt2 as u8;
    pub const NONE: u8 = Op::None as u8;
    pub const BINUNICODE: u8 = Op::BinUnicode as u8;
    pub const APPEND: u8 = Op::Append as u8;
    pub const EMPTY_DICT: u8 = Op::EmptyDict as u8;
    pub const APPENDS: u8 = Op::Appends as u8;
    pub const BINGET: u8 = Op::BinGet as u8;
    pub const LONG_BINGET: u8 = Op::LongBinGet as u8;
    pub const LIST: u8 = Op::List as u8;
    pub const DICT: u8 = Op::Dict as u8;
    pub const EMPTY_LIST: u8 = Op::EmptyList as u8;
    pub const BINPUT: u8 = Op::BinPut as u8;
    pub const LONG_BINPUT: u8 = Op::LongBinPut as u8;
    pub const SETITEM: u8 = Op::SetItem as u8;
    pub const TUPLE: u8 = Op::Tuple as u8;
    pub const EMPTY_TUPLE: u8 = Op::EmptyTuple as u8;
    pub const SETITEMS: u8 = Op::SetItems as u8;
    pub const BINFLOAT: u8 = Op::BinFloat as u8;
    pub const PROTO: u8 = Op::Proto as u8;
    pub const TUPLE1: u8 = Op::Tuple1 as u8;
    pub const TUPLE2: u8 = Op::Tuple2 as u8;
    pub const TUPLE3: u8 = Op::Tuple3 as u8;
    pub const NEWTRUE: u8 = Op::NewTrue as u8;
    pub const NEWFALSE: u8 = Op::NewFalse as u8;
    pub const LONG1: u8 = Op::Long1 as u8;
    pub const BINBYTES: u8 = Op::BinBytes as u8;
    pub const SHORT_BINBYTES: u8 = Op::ShortBinBytes as u8;
    pub const SHORT_BINUNICODE: u8 = Op::ShortBinUnicode as u8;
    pub const BINUNICODE8: u8 = Op::BinUnicode8 as u8;
    pub const BINBYTES8: u8 = Op::BinBytes8 as u8;
    pub const EMPTY_SET: u8 = Op::EmptySet as u8;
    pub const ADDITEMS: u8 = Op::AddItems as u8;
    pub const FROZENSET: u8 = Op::FrozenSet as u8;
    pub const MEMOIZE: u8 = Op::Memoize as u8;
    pub const FRAME: u8 = Op::Frame as u8;
    pub const BYTEARRAY8: u8 = Op::ByteArray8 as u8;
}

/// The highest pickle protocol this crate reads and writes.
pub const HIGHEST_PROTOCOL: u8 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_a_bijection_on_bytes() {
        assert_eq!(Op::ALL.len(), 68);
        for &op in Op::ALL {
            assert_eq!(Op::from_byte(op.byte()), Some(op));
        }
        let known = (0u8..=255).filter(|&b| Op::from_byte(b).is_some()).count();
        assert_eq!(known, 68);
    }
}
