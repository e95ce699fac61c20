//! `sparkwire frames`: a stream, split into frames, nulls and markers.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use bytes::BytesMut;
use serde_json::{json, Value};
use sparkwire::framing::{DecodeError, Frame, FrameDecoder, Limits, Step};

use super::args::{Format, FramesArgs};
use super::{named, open_input, preview};

/// Characters of a text payload shown on its one-line summary (`--payloads`
/// prints the whole text).
const PREVIEW_CHARS: usize = 40;

/// Input is read in pieces of this size, so memory stays bounded by the largest
/// frame rather than the file.
const READ_SIZE: usize = 64 * 1024;

/// Decodes the file, printing each item as soon as it is complete. Exit code 0 for
/// a clean stream, 1 when it is malformed (the error names offset and frame index).
pub fn run(args: &FramesArgs) -> io::Result<ExitCode> {
    let mut input = open_input(&args.file)?;
    let mut limits = Limits::default();
    if let Some(max) = args.max_frame_len {
        limits.max_frame_len = max.min(Limits::WIRE_MAX);
    }
    let mut dec = FrameDecoder::with_limits(limits);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut report = Report::new(args.format, args.payloads);
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; READ_SIZE];
    let mut eof = false;
    let error = loop {
        let (index, offset) = (dec.index(), dec.offset());
        match dec.decode(&mut buf) {
            Ok(Step::Item(frame)) => report.item(&mut out, index, offset, &frame)?,
            Ok(Step::NeedMore) if eof => break dec.finish(&buf).err(),
            Ok(Step::NeedMore) => {
                let n = input.read(&mut chunk).map_err(|e| named(&args.file, e))?;
                eof = n == 0;
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) => break Some(e),
        }
    };
    report.finish(&mut out, dec.offset(), error.as_ref())?;
    out.flush()?;
    if let Some(e) = error {
        eprintln!("sparkwire: {}: {e}", args.file.display());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Accumulates counts and renders items in the chosen format.
struct Report {
    format: Format,
    payloads: bool,
    /// JSON items are written as they come (memory stays flat on large inputs);
    /// this says whether the opening of the document is out yet.
    json_started: bool,
    frames: u64,
    frame_bytes: u64,
    nulls: u64,
    markers: u64,
}

impl Report {
    fn new(format: Format, payloads: bool) -> Report {
        Report {
            format,
            payloads,
            json_started: false,
            frames: 0,
            frame_bytes: 0,
            nulls: 0,
            markers: 0,
        }
    }

    fn item(
        &mut self,
        out: &mut impl Write,
        index: u64,
        offset: u64,
        frame: &Frame,
    ) -> io::Result<()> {
        match frame {
            Frame::Data(p) => {
                self.frames += 1;
                self.frame_bytes += p.len() as u64;
            }
            Frame::Null => self.nulls += 1,
            Frame::Marker(_) => self.markers += 1,
        }
        match self.format {
            Format::Text => self.text_item(out, index, offset, frame),
            Format::Json => {
                let item = self.json_item(index, offset, frame);
                self.json_separator(out)?;
                serde_json::to_writer(&mut *out, &item)?;
                Ok(())
            }
        }
    }

    fn text_item(
        &self,
        out: &mut impl Write,
        index: u64,
        offset: u64,
        frame: &Frame,
    ) -> io::Result<()> {
        match frame {
            Frame::Data(p) if preview::looks_like_secret(index, p) => writeln!(
                out,
                "#{index:<5} @{offset:<9} frame   {:>8} bytes  {}",
                p.len(),
                preview::SECRET_WITHHELD
            ),
            Frame::Data(p) => {
                writeln!(
                    out,
                    "#{index:<5} @{offset:<9} frame   {:>8} bytes  {}",
                    p.len(),
                    preview::describe(p, PREVIEW_CHARS)
                )?;
                if self.payloads {
                    match preview::full_text(p) {
                        Some(text) => writeln!(out, "        {text}")?,
                        None => write!(out, "{}", preview::hex_dump(p, "        "))?,
                    }
                }
                Ok(())
            }
            Frame::Null => writeln!(out, "#{index:<5} @{offset:<9} null"),
            Frame::Marker(s) => writeln!(out, "#{index:<5} @{offset:<9} marker  {s}"),
        }
    }

    fn json_item(&self, index: u64, offset: u64, frame: &Frame) -> Value {
        match frame {
            Frame::Data(p) if preview::looks_like_secret(index, p) => json!({
                "index": index, "offset": offset, "kind": "frame", "len": p.len(),
                "secret": true,
            }),
            Frame::Data(p) => {
                let mut v =
                    json!({"index": index, "offset": offset, "kind": "frame", "len": p.len()});
                if let Ok(text) = std::str::from_utf8(p) {
                    v["utf8"] = json!(text);
                }
                if self.payloads {
                    v["hex"] = json!(preview::hex(p));
                }
                v
            }
            Frame::Null => json!({"index": index, "offset": offset, "kind": "null"}),
            Frame::Marker(s) => json!({
                "index": index, "offset": offset, "kind": "marker",
                "value": s.value(), "name": s.name(),
            }),
        }
    }

    fn json_separator(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.json_started {
            write!(out, ",\n  ")
        } else {
            self.json_started = true;
            write!(out, "{{\"items\": [\n  ")
        }
    }

    fn finish(
        &mut self,
        out: &mut impl Write,
        total: u64,
        error: Option<&DecodeError>,
    ) -> io::Result<()> {
        match self.format {
            Format::Text => writeln!(
                out,
                "{} frames ({} payload bytes), {} nulls, {} markers; {} bytes decoded{}",
                self.frames,
                self.frame_bytes,
                self.nulls,
                self.markers,
                total,
                if error.is_some() {
                    ", then an error"
                } else {
                    ""
                }
            ),
            Format::Json => {
                if !self.json_started {
                    write!(out, "{{\"items\": [")?;
                }
                let summary = json!({
                    "frames": self.frames,
                    "nulls": self.nulls,
                    "markers": self.markers,
                    "bytes": total,
                    "error": error.map(|e| json!({
                        "message": e.to_string(),
                        "offset": e.offset(),
                        "stream_corrupt": e.is_stream_corrupt(),
                    })),
                });
                // The summary's fields follow the items in the same object.
                let fields = serde_json::to_string(&summary)?;
                writeln!(out, "\n], {}", &fields[1..])
            }
        }
    }
}
