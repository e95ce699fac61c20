//! The command line: every subcommand's arguments. A leaf module, so that the
//! subcommands depend on it and nothing here depends on them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// The top-level help's examples: one per everyday use.
const EXAMPLES: &str = "Examples:
  sparkwire frames examples/worker-exception.bin
  sparkwire decode examples/capture-spark-4.3.0
  sparkwire decode capture.pcapng --format json
  sparkwire dis batch.pickle | head
  sparkwire pickle show batch.pickle
  sparkwire pickle encode --protocol 2 \"[(1, 'a'), {'k': 2.5}]\" > v.pickle
  sparkwire submit examples/wordcount.py README.md";

/// Decode and inspect the wire formats PySpark speaks.
#[derive(Debug, Parser)]
#[command(
    name = "sparkwire",
    version,
    about,
    long_about = "Decode and inspect the wire formats PySpark speaks: length-prefixed \
frames, pickles, recorded JVM \u{21c4} worker connections and pcap captures.\n\n\
Exit status, for every subcommand but submit and tap (which pass on their \
program's): 0 success; 1 the input is bad (malformed, or not what was \
claimed: the message names the file and the byte, frame or record); 2 usage \
or I/O error (bad arguments, a file that cannot be read). Output cut short by \
a closed pipe (`| head`) is no error: exit 0, nothing on stderr.",
    after_help = EXAMPLES
)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Split a length-prefixed stream (as PySpark's serializers, the JVM and the
    /// workers write them) into frames, nulls and markers.
    #[command(
        after_help = "Examples:\n  sparkwire frames examples/worker-exception.bin\n  sparkwire frames --format json --payloads from_worker.0.bin\n  cat stream.bin | sparkwire frames -"
    )]
    Frames(FramesArgs),
    /// Disassemble a pickle exactly as `python -m pickletools FILE` does.
    #[command(
        allow_negative_numbers = true,
        after_help = "Examples:\n  sparkwire dis batch.pickle\n  sparkwire dis -l 2 batch.pickle | head -20"
    )]
    Dis(DisArgs),
    /// Show, check or write pickles.
    #[command(subcommand)]
    Pickle(PickleCommand),
    /// Decode recorded JVM ⇄ worker connections: a capture directory as `tap`
    /// writes it, a pcap/pcapng file, or one pair of files. A damaged capture
    /// is shown up to the damage, then where it stopped. Exit 0 when every byte
    /// was decoded, 1 when the input is damaged, incomplete or does not verify,
    /// 2 for usage and I/O errors.
    #[command(
        after_help = "Examples:\n  sparkwire decode examples/capture-spark-4.3.0\n  sparkwire decode loopback.pcapng --format json\n  sparkwire decode --to-worker to_worker.0.bin --from-worker from_worker.0.bin --verify"
    )]
    Decode(DecodeArgs),
    /// Re-run captured tasks on a local worker of the recorded pyspark release
    /// and compare its output with the recording, record by record (timing
    /// ignored). Exit 0 iff every replayed task matches.
    Replay(ReplayArgs),
    /// Run a PySpark program without a JVM: a local gateway and engine stand
    /// where spark-submit's JVM stands, and the program's own pyspark attaches
    /// to them. A master that is not local is handed to the real spark-submit
    /// of that pyspark. Exits with the program's exit status (2 when it could
    /// not be started; 128 + N when a signal N ended it).
    #[command(
        after_help = "Examples:\n  sparkwire submit examples/wordcount.py README.md\n  sparkwire submit --master 'local[4]' --conf spark.default.parallelism=8 app.py --input data.txt\n  sparkwire submit --py-files lib.zip,util.py --name nightly job.py"
    )]
    Submit(SubmitArgs),
    /// Run the real Python, relaying and recording worker connections: use it
    /// (through a wrapper script) as `spark.pyspark.python`. The capture
    /// directory is `$SPARKWIRE_TAP_DIR`, the real interpreter
    /// `$SPARKWIRE_TAP_PYTHON` (default `python3`).
    Tap {
        /// The interpreter's arguments, e.g. `-m pyspark.worker`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Options of `sparkwire replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A capture directory as `tap` writes it, or a pcap/pcapng file.
    pub capture: PathBuf,
    /// Only this connection (its number in the capture directory).
    #[arg(long)]
    pub connection: Option<String>,
    /// Only this task of each connection (0 is the first).
    #[arg(long)]
    pub task: Option<usize>,
    /// The Python to run workers with; it must have the capture's pyspark
    /// release. Default: the first of python3, python, python3.N on PATH that has it.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The capture's layout: auto (from the bytes), 3.5, 4.0, 4.1, 4.2 or 4.3.
    #[arg(long, default_value = "auto")]
    pub spark: String,
    /// Output records shown per task, and record differences listed.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// How long a worker may stay silent, in seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Options of `sparkwire submit`, as spark-submit spells them (a repeated
/// option takes its last value, as in spark-submit).
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct SubmitArgs {
    /// `local`, `local[N]`, `local[*]` (the default) or a cluster URL.
    #[arg(long)]
    pub master: Option<String>,
    /// A Spark setting, `key=value`; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// Python files or zips for the driver's and the workers' `sys.path`,
    /// comma-separated.
    #[arg(long, value_name = "FILES")]
    pub py_files: Option<String>,
    /// Files placed in the working directory of the workers (`SparkFiles`),
    /// comma-separated.
    #[arg(long, value_name = "FILES")]
    pub files: Option<String>,
    /// The application name (default: the program's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// The driver's Python (default: `$PYSPARK_DRIVER_PYTHON`, then
    /// `$PYSPARK_PYTHON`, then `python3`); its pyspark (3.5 to 4.3) is used.
    #[arg(long, value_name = "PYTHON")]
    pub driver_python: Option<PathBuf>,
    /// The program.
    pub app: PathBuf,
    /// The program's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Options of `sparkwire decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// A capture directory (`to_worker.N.bin` / `from_worker.N.bin`), or a pcap
    /// or pcapng file of loopback traffic.
    #[arg(value_name = "CAPTURE")]
    pub dir: Option<PathBuf>,
    /// The JVM → worker direction of one connection.
    #[arg(long, requires = "from_worker")]
    pub to_worker: Option<PathBuf>,
    /// The worker → JVM direction of one connection.
    #[arg(long, requires = "to_worker")]
    pub from_worker: Option<PathBuf>,
    /// auto (the layout that accounts for every byte, else the one that got
    /// furthest), 3.5, 4.0, 4.1, 4.2 or 4.3.
    #[arg(long, default_value = "auto")]
    pub spark: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Re-encode everything decoded; exit 1 unless it equals the input byte for byte.
    #[arg(long)]
    pub verify: bool,
    /// Show only this worker connection: its number in a capture directory,
    /// or `client → server` (as printed) in a pcap.
    #[arg(long)]
    pub connection: Option<String>,
    /// Show only the task with this index on each connection (0 is the first).
    #[arg(long)]
    pub task: Option<usize>,
    /// Show only the tasks of this partition (the header's split index).
    #[arg(long)]
    pub partition: Option<i32>,
    /// Records shown per input or output section, the rest counted (0: all).
    /// Text: 20 unless given; JSON: every record unless given.
    #[arg(long, value_name = "N")]
    pub max_records: Option<usize>,
}

/// Options of `sparkwire dis`.
#[derive(Debug, clap::Args)]
pub struct DisArgs {
    /// The pickle ("-" for standard input).
    pub file: PathBuf,
    /// Blanks per MARK level (pickletools' --indentlevel; a negative level
    /// indents nothing, as in pickletools).
    #[arg(short = 'l', long, default_value_t = 4)]
    pub indentlevel: i64,
}

/// `sparkwire pickle …`.
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  sparkwire pickle show batch.pickle\n  sparkwire pickle check batch.pickle\n  sparkwire pickle encode -5\n  sparkwire pickle encode --protocol 2 \"[1+2j, b'x', {1, 2}]\""
)]
pub enum PickleCommand {
    /// Print the value in Python repr syntax (as `repr(pickle.loads(data))` for builtin types).
    Show {
        /// The pickle ("-" for standard input).
        file: PathBuf,
    },
    /// Exit 0 iff re-encoding the decoded value reproduces the file byte for byte
    /// (CPython profile of its protocol, 0 to 5, or Pyrolite for protocol 2);
    /// otherwise name the first differing offset.
    Check {
        /// The pickle ("-" for standard input).
        file: PathBuf,
    },
    /// Write the pickle of a Python literal (as `ast.literal_eval` accepts it) to stdout.
    #[command(allow_negative_numbers = true)]
    Encode {
        /// Pickle protocol (cpython profile): 0-5. Default 5, what PySpark uses;
        /// the pyrolite profile writes protocol 2 only.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=5))]
        protocol: Option<u8>,
        /// Whose bytes: CPython's pickler or Pyrolite (Spark's JVM side, protocol 2).
        #[arg(long, value_enum, default_value_t = ProfileName::Cpython)]
        profile: ProfileName,
        /// The literal, e.g. "[(1, 'a'), {'k': 2.5}]" (one starting with a minus
        /// sign, as `-1-2j`, is a literal too, not an option).
        #[arg(allow_hyphen_values = true)]
        literal: String,
    },
}

/// Encoder profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// CPython's C pickler.
    Cpython,
    /// Pyrolite, as Spark's JVM uses it.
    Pyrolite,
}

/// Options of `sparkwire frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The stream to decode ("-" for standard input).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Largest frame accepted, in bytes (default 256 MiB; at most 2147483647,
    /// the largest length an i32 prefix can state).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(i32::MAX)))]
    pub max_frame_len: Option<u32>,
    /// Include every payload in full: UTF-8 text as text, anything else as a
    /// hex dump (text); as hex (JSON). A first frame that looks like an auth
    /// secret (hex digits only) is never shown.
    #[arg(long)]
    pub payloads: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per item, for people.
    Text,
    /// One JSON document, for programs.
    Json,
}
