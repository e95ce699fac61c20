//! A task header prefix on arbitrary bytes, for every Spark version (the first
//! byte selects it, the rest is the header): `TaskHeader::decode_prefix` never
//! panics; it says what the whole-header decoder says (the same header and
//! length, the same error, or a cut where that decoder waits for more bytes);
//! the fields it read tile the bytes from 0 with no gap or overlap, up to the
//! header's end or the start of the field it stopped in; a cut names bytes that
//! are there (`had` is what follows the field's start, fewer than `needed`); and
//! reading only up to that field's start stops there too, with the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkwire_worker::protocol::{Limits, PrefixEnd, SparkVersion, TaskHeader};

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let v = SparkVersion::ALL[usize::from(head) % SparkVersion::ALL.len()];
    let limits = Limits::default();
    let p = TaskHeader::decode_prefix(rest, v, &limits);
    let mut next = 0;
    for f in &p.read.fields {
        assert_eq!(f.offset, next, "a gap or overlap before {f:?}");
        next += f.len;
    }
    match (TaskHeader::decode_with(rest, v, &limits), &p.end) {
        (Ok(Some((want, n))), PrefixEnd::Complete(got, used)) => {
            assert_eq!(**got, want);
            assert_eq!(*used, n);
            assert_eq!(next, n as u64, "the fields end before the header");
        }
        (Ok(None), PrefixEnd::Cut(cut)) => {
            assert_eq!(
                cut.offset, next,
                "the cut field does not follow the fields read"
            );
            assert_eq!(cut.had, rest.len() as u64 - cut.offset);
            assert!(cut.had < cut.needed, "{cut:?}");
            // The same reader up to the cut field's start stops there too
            // (4.3's init message is read as far as its body goes, so a cut
            // inside the body stops where the shorter body does).
            let start = usize::try_from(cut.offset).unwrap();
            let q = TaskHeader::decode_prefix(&rest[..start], v, &limits);
            match q.end {
                PrefixEnd::Cut(c) => assert_eq!(c.offset, cut.offset, "{c:?} vs {cut:?}"),
                other => panic!("{other:?} where {cut:?} was"),
            }
            assert_eq!(q.read.fields, p.read.fields);
        }
        (Err(want), PrefixEnd::Bad(got)) => assert_eq!(*got, want),
        (whole, prefix) => panic!("the whole decoder says {whole:?}, the prefix reader {prefix:?}"),
    }
});
