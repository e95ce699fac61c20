//! Golden transcripts of real Spark jobs (recorded by `scripts/record-transcripts.sh`
//! through `sparkwire tap`, one directory per pinned release): every byte of both
//! directions of every worker connection is accounted for by the protocol
//! decoders, every header re-encodes to exactly its bytes, and the records
//! decoded with the serializers named inside each cloudpickled command are the
//! job's real results (`expected.json`, written by Spark).

use std::fs;
use std::path::{Path, PathBuf};

use bytes::{Buf, BytesMut};
use sparkwire_framing::{Frame, Step};
use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::cloudpickle::command_serializers;
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder};
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::{
    End, ReplyDecoder, ReplyItem, SparkVersion, TaskDecoder, TaskItem,
};

/// What one connection carried, decoded.
struct Connection {
    inputs: Vec<String>,
    outputs: Vec<String>,
    output_serializer: Serializer,
    accumulators: Vec<String>,
    exception: Option<String>,
}

fn frames_to_stream(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(&mut out).unwrap();
    }
    out
}

fn reprs(ser: &Serializer, v: SparkVersion, stream: &[u8]) -> Vec<String> {
    StreamDecoder::new(ser.clone(), v.serializers())
        .load_all(stream)
        .unwrap_or_else(|e| panic!("{ser}: {e}"))
        .iter()
        .map(|e| e.repr().unwrap())
        .collect()
}

fn decode_connection(
    v: SparkVersion,
    to_worker: &[u8],
    from_worker: &[u8],
    what: &str,
) -> Connection {
    // Non-daemon prelude: the worker authenticates (str secret) and sends its pid;
    // the JVM answers "ok".
    assert_eq!(
        &to_worker[..6],
        b"\0\0\0\x02ok",
        "{what}: to_worker prelude"
    );
    let secret_len = u32::from_be_bytes(from_worker[..4].try_into().unwrap()) as usize;
    let prelude = 4 + secret_len + 4;

    let mut dec = TaskDecoder::new(v);
    let mut buf = BytesMut::from(&to_worker[6..]);
    let (mut header, mut data) = (None, Vec::new());
    loop {
        let before = dec.offset();
        match dec.next(&mut buf).unwrap_or_else(|e| panic!("{what}: {e}")) {
            Step::Item(TaskItem::Header(h)) => {
                let used = (dec.offset() - before) as usize;
                let start = 6 + before as usize;
                assert_eq!(
                    h.encode(v).unwrap(),
                    &to_worker[start..start + used],
                    "{what}: header re-encodes"
                );
                header = Some(h);
            }
            Step::Item(TaskItem::Data(f)) => data.push(f),
            Step::Item(TaskItem::EndOfData) => {}
            Step::Item(TaskItem::Finish(x)) => assert_eq!(x, -4, "{what}"),
            Step::NeedMore => break,
        }
    }
    assert!(
        buf.is_empty() && dec.between_tasks(),
        "{what}: {} bytes unaccounted in to_worker",
        buf.len()
    );
    assert_eq!(dec.tasks(), 1, "{what}");
    let header = header.unwrap();
    let command = pickle::decode_slice(&header.command).unwrap();
    let (deser, ser) = command_serializers(&command.graph)
        .unwrap_or_else(|| panic!("{what}: command serializers"));

    let mut rdec = ReplyDecoder::new(v);
    let mut rbuf = BytesMut::from(&from_worker[prelude..]);
    let (mut out_frames, mut accumulators, mut exception) = (Vec::new(), Vec::new(), None);
    loop {
        match rdec
            .next(&mut rbuf)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
        {
            Step::Item(Some(ReplyItem::Data(b))) => out_frames.push(Frame::Data(b)),
            Step::Item(Some(ReplyItem::Accumulator(b))) => {
                accumulators.push(pickle::repr(&pickle::decode_slice(&b).unwrap().graph).unwrap())
            }
            Step::Item(Some(ReplyItem::Exception(t))) => exception = Some(t),
            Step::Item(Some(ReplyItem::End(e))) => assert_eq!(e, End::Reuse, "{what}"),
            Step::Item(Some(_)) => {}
            Step::Item(None) => break,
            Step::NeedMore => panic!("{what}: reply cut short"),
        }
    }
    rbuf.advance(0);
    assert!(
        rbuf.is_empty(),
        "{what}: {} bytes after the reply",
        rbuf.len()
    );
    Connection {
        inputs: reprs(&deser, v, &frames_to_stream(&data)),
        outputs: reprs(&ser, v, &frames_to_stream(&out_frames)),
        output_serializer: ser,
        accumulators,
        exception,
    }
}

fn jobs(version_dir: &Path) -> Vec<(String, Vec<Connection>, serde_json::Value)> {
    let release = version_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("spark-")
        .to_string();
    let v = SparkVersion::of_release(&release).unwrap();
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(version_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        let expected: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join("expected.json")).unwrap()).unwrap();
        let mut conns = Vec::new();
        for n in 0.. {
            let to = d.join(format!("to_worker.{n}.bin"));
            if !to.exists() {
                break;
            }
            let from = fs::read(d.join(format!("from_worker.{n}.bin"))).unwrap();
            conns.push(decode_connection(
                v,
                &fs::read(&to).unwrap(),
                &from,
                &format!("{release}/{name}/{n}"),
            ));
        }
        assert!(!conns.is_empty(), "{release}/{name}: no connections");
        out.push((name, conns, expected));
    }
    out
}

fn expected_ok(e: &serde_json::Value) -> Vec<String> {
    e["ok"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn real_spark_transcripts_decode_completely() {
    let root = golden_dir().join("worker");
    let mut versions: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    assert_eq!(
        versions.len(),
        SparkVersion::ALL.len(),
        "one directory per pinned release"
    );
    for vd in versions {
        for (name, conns, expected) in jobs(&vd) {
            let what = format!("{}/{name}", vd.display());
            let outputs: Vec<String> = conns
                .iter()
                .filter(|c| c.output_serializer != Serializer::NoOp)
                .flat_map(|c| c.outputs.clone())
                .collect();
            match name.as_str() {
                "exception" => {
                    assert_eq!(expected["error"], "Py4JJavaError");
                    let tb = conns
                        .iter()
                        .find_map(|c| c.exception.clone())
                        .expect("a traceback");
                    assert!(tb.contains("ZeroDivisionError"), "{what}: {tb}");
                }
                "broadcast_accum" => {
                    let want = expected_ok(&expected);
                    assert_eq!(outputs, want[..4], "{what}");
                    let total = &want[4];
                    assert!(
                        conns[0]
                            .accumulators
                            .iter()
                            .any(|a| a.ends_with(&format!(", {total})"))),
                        "{what}"
                    );
                }
                "reduce_by_key" => {
                    let mut got = outputs.clone();
                    got.sort();
                    assert_eq!(got, expected_ok(&expected), "{what}");
                    // The map side's input is the parallelized pairs; its output raw shuffle frames.
                    assert!(
                        conns
                            .iter()
                            .any(|c| c.output_serializer == Serializer::NoOp),
                        "{what}"
                    );
                }
                "text_file" => {
                    assert_eq!(conns[0].inputs, ["'alpha'", "''", "'beta gamma'"], "{what}");
                    assert_eq!(outputs, expected_ok(&expected), "{what}");
                }
                _ => assert_eq!(outputs, expected_ok(&expected), "{what}"),
            }
        }
    }
}

/// Which layouts account for a connection's JVM → worker bytes: the basis of
/// `--spark auto`. 3.5 and 4.0 write the same NON_UDF header; every other
/// release is told apart by its bytes alone.
#[test]
fn only_the_right_layouts_fit_each_transcript() {
    let fits = |v: SparkVersion, to_worker: &[u8]| -> bool {
        let mut dec = TaskDecoder::new(v);
        let mut buf = BytesMut::from(&to_worker[6..]);
        loop {
            match dec.next(&mut buf) {
                Ok(Step::Item(_)) => {}
                Ok(Step::NeedMore) => {
                    return buf.is_empty() && dec.between_tasks() && dec.tasks() > 0
                }
                Err(_) => return false,
            }
        }
    };
    let root = golden_dir().join("worker");
    for vd in fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        let release = vd
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("spark-")
            .to_string();
        let actual = SparkVersion::of_release(&release).unwrap();
        let want: Vec<SparkVersion> = match actual {
            SparkVersion::V3_5 | SparkVersion::V4_0 => vec![SparkVersion::V3_5, SparkVersion::V4_0],
            other => vec![other],
        };
        let to_worker = fs::read(vd.join("map_collect/to_worker.0.bin")).unwrap();
        let got: Vec<SparkVersion> = SparkVersion::ALL
            .into_iter()
            .filter(|v| fits(*v, &to_worker))
            .collect();
        assert_eq!(got, want, "{release}");
    }
}
