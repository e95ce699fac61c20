//! The frame decoder against golden streams written by real PySpark
//! (`scripts/record_golden.py`, one directory per pinned version).
//!
//! Each manifest lists what the Python side wrote, item by item, built from its
//! write() calls, not from parsing bytes. We check that the decoder splits each
//! stream into exactly those items, in any chunking, and that re-encoding the items
//! reproduces the stream byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sparkwire_framing::{Frame, FrameDecoder, FrameWriter, SpecialLength, Step};
use sparkwire_testkit::{golden_dir, hex, oracle_versions};

struct Golden {
    name: String,
    bytes: Vec<u8>,
    items: Vec<Value>,
}

fn load_version(version: &str) -> Vec<Golden> {
    let dir = golden_dir()
        .join("framing")
        .join(format!("pyspark-{version}"));
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "golden streams for pyspark {version} at {}: {e}",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for manifest_path in entries {
        let manifest: Value = serde_json::from_slice(&fs::read(&manifest_path).unwrap()).unwrap();
        assert_eq!(manifest["pyspark"], version, "{}", manifest_path.display());
        let bin = manifest_path.with_extension("bin");
        let bytes = fs::read(&bin).unwrap();
        assert_eq!(manifest["total_bytes"].as_u64(), Some(bytes.len() as u64));
        out.push(Golden {
            name: manifest["name"].as_str().unwrap().to_owned(),
            bytes,
            items: manifest["items"].as_array().unwrap().clone(),
        });
    }
    assert!(
        out.len() >= 15,
        "too few golden streams in {}",
        dir.display()
    );
    out
}

/// What the decoder produced for one manifest item.
#[derive(Debug, PartialEq)]
enum Decoded {
    Frame(Frame),
    I32(i32),
    I64(i64),
}

/// Decodes `g` feeding `chunk(i)` bytes at a time, guided by the manifest only for
/// the kinds of fixed-width fields (which are not self-describing on the wire).
fn decode_guided(g: &Golden, mut chunk: impl FnMut(usize) -> usize) -> Vec<(u64, Decoded)> {
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut out = Vec::new();
    let mut call = 0;
    for item in &g.items {
        loop {
            let offset = dec.offset();
            let step = match item["kind"].as_str().unwrap() {
                "i64" => dec.decode_i64(&mut buf).unwrap().item().map(Decoded::I64),
                "i32" => dec.decode_i32(&mut buf).unwrap().item().map(Decoded::I32),
                _ => match dec.decode(&mut buf) {
                    Ok(Step::Item(f)) => Some(Decoded::Frame(f)),
                    Ok(Step::NeedMore) => None,
                    Err(e) => panic!("{}: {e}", g.name),
                },
            };
            if let Some(d) = step {
                out.push((offset, d));
                break;
            }
            assert!(
                fed < g.bytes.len(),
                "{}: ran out of input at item {item}",
                g.name
            );
            let n = chunk(call).clamp(1, g.bytes.len() - fed);
            call += 1;
            buf.extend_from_slice(&g.bytes[fed..fed + n]);
            fed += n;
        }
    }
    buf.extend_from_slice(&g.bytes[fed..]);
    assert!(buf.is_empty(), "{}: {} bytes left over", g.name, buf.len());
    dec.finish(&buf).unwrap();
    out
}

fn check_against_manifest(g: &Golden, decoded: &[(u64, Decoded)]) {
    assert_eq!(decoded.len(), g.items.len(), "{}: item count", g.name);
    for (i, ((offset, d), item)) in decoded.iter().zip(&g.items).enumerate() {
        let ctx = format!("{} item {i}: {item}", g.name);
        assert_eq!(Some(*offset), item["offset"].as_u64(), "{ctx}: offset");
        match (item["kind"].as_str().unwrap(), d) {
            ("frame", Decoded::Frame(Frame::Data(payload))) => {
                assert_eq!(Some(payload.len() as u64), item["len"].as_u64(), "{ctx}");
                let sha = hex(&Sha256::digest(payload));
                assert_eq!(Some(sha.as_str()), item["sha256"].as_str(), "{ctx}");
            }
            ("null", Decoded::Frame(Frame::Null)) => {}
            ("marker", Decoded::Frame(Frame::Marker(s))) => {
                assert_eq!(Some(i64::from(s.value())), item["value"].as_i64(), "{ctx}");
                assert_eq!(Some(s.name()), item["name"].as_str(), "{ctx}");
            }
            ("i32", Decoded::I32(v)) => assert_eq!(Some(i64::from(*v)), item["value"].as_i64()),
            ("i64", Decoded::I64(v)) => assert_eq!(Some(*v), item["value"].as_i64()),
            (kind, d) => panic!("{ctx}: manifest says {kind}, decoder gave {d:?}"),
        }
    }
}

fn reencode(decoded: &[(u64, Decoded)]) -> Vec<u8> {
    let mut w = FrameWriter::new(Vec::new());
    for (_, d) in decoded {
        match d {
            Decoded::Frame(f) => {
                w.item(f).unwrap();
            }
            Decoded::I32(v) => {
                w.i32(*v);
            }
            Decoded::I64(v) => {
                w.i64(*v);
            }
        }
    }
    w.into_inner()
}

fn for_each_version(f: impl Fn(&str, &[Golden])) {
    for v in oracle_versions() {
        f(&v, &load_version(&v));
    }
}

#[test]
fn decoder_splits_golden_streams_exactly_as_pyspark_wrote_them() {
    for_each_version(|_, goldens| {
        for g in goldens {
            let decoded = decode_guided(g, |_| usize::MAX);
            check_against_manifest(g, &decoded);
            assert_eq!(reencode(&decoded), g.bytes, "{}: re-encoding", g.name);
        }
    });
}

#[test]
fn any_chunking_gives_the_same_items() {
    for_each_version(|_, goldens| {
        for g in goldens {
            let whole = decode_guided(g, |_| usize::MAX);
            // One byte at a time, and an irregular pattern crossing every boundary.
            let bytewise = decode_guided(g, |_| 1);
            let mut seed = 0x2545_f491_u64;
            let irregular = decode_guided(g, move |_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 9000) as usize + 1
            });
            assert_eq!(whole, bytewise, "{}", g.name);
            assert_eq!(whole, irregular, "{}", g.name);
        }
    });
}

#[test]
fn frame_only_streams_decode_without_guidance() {
    // Streams made only of length slots are self-describing: decode blindly to EOF.
    for_each_version(|_, goldens| {
        for g in goldens.iter().filter(|g| {
            g.items
                .iter()
                .all(|i| matches!(i["kind"].as_str(), Some("frame" | "null" | "marker")))
        }) {
            let mut dec = FrameDecoder::new();
            let mut buf = BytesMut::from(&g.bytes[..]);
            let mut decoded = Vec::new();
            loop {
                let offset = dec.offset();
                match dec.decode_eof(&mut buf) {
                    Ok(Some(f)) => decoded.push((offset, Decoded::Frame(f))),
                    Ok(None) => break,
                    Err(e) => panic!("{}: {e}", g.name),
                }
            }
            check_against_manifest(g, &decoded);
        }
    });
}

#[test]
fn version_differences_are_in_the_goldens() {
    // The one framing-visible difference between versions: BatchedSerializer with
    // batch size 0 writes nothing from 4.2 on, and only 4.3 has the init marker.
    let dir = |v: &str| golden_dir().join("framing").join(format!("pyspark-{v}"));
    let len = |p: PathBuf| fs::read(p).map(|b| b.len()).unwrap_or(usize::MAX);
    for v in oracle_versions() {
        let d = dir(&v);
        let zero = len(d.join("batched_0_range3.bin"));
        let init = Path::new(&d).join("init_message_marker.bin").exists();
        // BatchedSerializer(…, 0) writes nothing from 4.2 on (islice batching).
        if v.as_str() >= "4.2" {
            assert_eq!(zero, 0, "{v}");
        } else {
            assert!(zero > 0 && zero != usize::MAX, "{v}");
        }
        if v.as_str() >= "4.3" {
            assert!(init, "{v}");
            let bytes = fs::read(d.join("init_message_marker.bin")).unwrap();
            assert_eq!(
                bytes[..4],
                SpecialLength::StartOfInitMessage.value().to_be_bytes()
            );
        } else {
            assert!(!init, "{v}");
        }
    }
}
