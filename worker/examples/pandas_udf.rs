//! An engine's view of the host: run a pandas scalar UDF over an Arrow record
//! batch on a real PySpark worker, and read the Arrow result back.
//!
//! An engine gets the pickled UDF from PySpark's driver and holds its data as
//! Arrow already; to stay self-contained this example asks the worker's own
//! interpreter (pyspark's `CloudPickleSerializer`, pyarrow) to make both, and to
//! print the result. Run with the Python that has pyspark, pandas and pyarrow:
//!
//! ```text
//! cargo run -p sparkwire-worker --example pandas_udf -- ~/.cache/sparkwire/venv/pyspark-4.3.0/bin/python
//! ```

use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use sparkwire_serializers::pyspark::arrow::ArrowItem;
use sparkwire_worker::host::{Host, HostConfig, Output, Python, Task, TaskInput};
use sparkwire_worker::protocol::EvalType;

/// Prints, hex-encoded on two lines, the pickled `(plus_one, LongType())` and
/// an Arrow IPC stream of one batch with a column `x` = 1..5.
const MAKE: &str = r#"
from pyspark.serializers import CloudPickleSerializer
from pyspark.sql.types import LongType
import pyarrow as pa

def plus_one(s):
    return s * 10 + 1

print(CloudPickleSerializer().dumps((plus_one, LongType())).hex())
batch = pa.record_batch([pa.array([1, 2, 3, 4, 5], pa.int64())], names=["x"])
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, batch.schema) as w:
    w.write_batch(batch)
print(sink.getvalue().to_pybytes().hex())
"#;

/// Reads an Arrow IPC stream on stdin and prints it as a table.
const SHOW: &str = r#"
import sys, pyarrow as pa
print(pa.ipc.open_stream(sys.stdin.buffer.read()).read_all().to_pandas())
"#;

fn unhex(s: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(s.get(i..i + 2).ok_or("odd hex")?, 16)?))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::args().nth(1).unwrap_or_else(|| "python3".into());
    let python = Python::probe(&exe)?;
    println!(
        "worker: {} (Python {}, pyspark {})",
        python.exe.display(),
        python.version,
        python.pyspark
    );
    let made = Command::new(&python.exe).args(["-c", MAKE]).output()?;
    if !made.status.success() {
        return Err(String::from_utf8_lossy(&made.stderr).into_owned().into());
    }
    let text = String::from_utf8(made.stdout)?;
    let mut lines = text.lines();
    let udf = Bytes::from(unhex(lines.next().ok_or("no UDF")?)?);
    let batch = Bytes::from(unhex(lines.next().ok_or("no batch")?)?);

    let host = Host::new(python.clone(), HostConfig::default())?;
    // One UDF, applied to column 0; the Arrow stream is the whole data section.
    let task = Task::sql_udfs(
        python.spark,
        EvalType::SQL_SCALAR_PANDAS_UDF,
        vec![(vec![0], vec![udf])],
        Vec::new(),
        TaskInput::arrow([batch]),
    );
    let mut run = host.run(task)?;
    let mut result = Vec::new();
    for output in &mut run {
        match output? {
            Output::Arrow(ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes)) => {
                result.extend_from_slice(&bytes)
            }
            Output::ArrowStart | Output::Data(_) | Output::Null => {}
        }
    }
    let summary = run.finish()?;
    println!(
        "worker {} answered {} bytes of Arrow; timing {:?}",
        summary.pid,
        result.len(),
        summary.timing
    );
    let mut show = Command::new(&python.exe)
        .args(["-c", SHOW])
        .stdin(Stdio::piped())
        .spawn()?;
    show.stdin.take().ok_or("no stdin")?.write_all(&result)?;
    show.wait()?;
    Ok(())
}
