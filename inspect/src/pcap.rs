//! pcap / pcapng captures of loopback traffic (what `tcpdump -i lo -w` writes):
//! link layers, IPv4/IPv6, and TCP reassembled into the two byte streams of
//! each connection.
//!
//! Capture files are untrusted: every header length is checked against the
//! bytes present, out-of-order data waiting for a gap to fill is bounded, and a
//! file cut short ends the packet list instead of failing it.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use thiserror::Error;

/// Out-of-order bytes held per direction while a gap is open; past this the
/// later segments are dropped and the gap reported.
pub const MAX_PENDING: usize = 64 << 20;

/// Why a capture file could not be read at all.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PcapReadError {
    /// Neither pcap nor pcapng.
    #[error("not a pcap or pcapng file (byte 0: unknown magic)")]
    NotPcap,
    /// A block is malformed.
    #[error("capture block at byte {offset}: {problem}")]
    Block {
        /// Offset of the block in the file.
        offset: u64,
        /// What was wrong.
        problem: BlockProblem,
    },
}

/// What was wrong with a capture block, read from the block's own header so
/// that the message speaks of the file, not of the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BlockProblem {
    /// A pcapng block states a total length below the 12 bytes of its framing.
    #[error("block length {len} is shorter than a block's 12-byte framing")]
    TooShort {
        /// The stated length.
        len: u32,
    },
    /// A pcapng block states a total length that is not a multiple of 4.
    #[error("block length {len} is not a multiple of 4")]
    Unaligned {
        /// The stated length.
        len: u32,
    },
    /// A block or record states more bytes than the file has left (reported
    /// where the reader cannot treat it as a capture cut short).
    #[error("{what} states {len} bytes, the file has {left} left")]
    PastEnd {
        /// "block length" or "record length".
        what: &'static str,
        /// The stated length.
        len: u64,
        /// Bytes from the block to the end of the file.
        left: u64,
    },
    /// The file ends inside the 8 bytes of a block's type and length.
    #[error("the file ends {left} bytes into a block's type and length")]
    CutHeader {
        /// Bytes from the block to the end of the file.
        left: u64,
    },
    /// A pcapng block's trailing length differs from its leading one.
    #[error("block length {lead} at its start but {trail} at its end")]
    TrailerMismatch {
        /// The leading length.
        lead: u32,
        /// The trailing length.
        trail: u32,
    },
    /// The block's framing is sound but its body is not what its type requires.
    #[error("the body of this {kind} does not parse")]
    BadBody {
        /// The block's type, named.
        kind: &'static str,
    },
}

/// Names a pcapng block type for messages.
fn block_kind(ty: u32) -> &'static str {
    match ty {
        0x0A0D_0D0A => "section header block",
        1 => "interface description block",
        2 => "obsolete packet block",
        3 => "simple packet block",
        4 => "name resolution block",
        5 => "interface statistics block",
        6 => "enhanced packet block",
        _ => "block",
    }
}

/// Why the block at `offset` does not parse, from its framing.
fn diagnose(data: &[u8], offset: u64) -> BlockProblem {
    let at = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let rest = &data[at..];
    let left = rest.len() as u64;
    let pcapng = data.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]);
    if !pcapng {
        // Legacy pcap: a 24-byte file header, then 16-byte record headers whose
        // third field is the captured length.
        let big = data.get(..4) == Some(&[0xa1, 0xb2, 0xc3, 0xd4][..])
            || data.get(..4) == Some(&[0xa1, 0xb2, 0x3c, 0x4d][..]);
        let u32_at = |b: &[u8], i: usize| {
            b.get(i..i + 4).map(|w| {
                let w = [w[0], w[1], w[2], w[3]];
                if big {
                    u32::from_be_bytes(w)
                } else {
                    u32::from_le_bytes(w)
                }
            })
        };
        if at == 0 {
            return BlockProblem::BadBody {
                kind: "pcap file header",
            };
        }
        return match u32_at(rest, 8) {
            Some(incl) if 16 + u64::from(incl) > left => BlockProblem::PastEnd {
                what: "record length",
                len: 16 + u64::from(incl),
                left,
            },
            _ => BlockProblem::BadBody {
                kind: "packet record",
            },
        };
    }
    // pcapng: the byte order is the section header's (byte-order magic at +8).
    let big = data.get(8..12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d][..]);
    let u32_at = |i: usize| {
        rest.get(i..i + 4).map(|w| {
            let w = [w[0], w[1], w[2], w[3]];
            if big {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        })
    };
    let (Some(ty), Some(len)) = (u32_at(0), u32_at(4)) else {
        return BlockProblem::CutHeader { left };
    };
    let kind = block_kind(ty);
    if len < 12 {
        return BlockProblem::TooShort { len };
    }
    if len % 4 != 0 {
        return BlockProblem::Unaligned { len };
    }
    if u64::from(len) > left {
        return BlockProblem::PastEnd {
            what: "block length",
            len: u64::from(len),
            left,
        };
    }
    match u32_at(len as usize - 4) {
        Some(trail) if trail != len => BlockProblem::TrailerMismatch { lead: len, trail },
        _ => BlockProblem::BadBody { kind },
    }
}

/// Whether `data` starts like a pcap or pcapng file.
pub fn is_capture(data: &[u8]) -> bool {
    matches!(
        data.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

/// One reassembled TCP connection.
#[derive(Debug, Clone, Default)]
pub struct TcpConnection {
    /// The side that sent the SYN (without one: the higher port).
    pub client: Option<SocketAddr>,
    /// The other side.
    pub server: Option<SocketAddr>,
    /// Whether the handshake was captured (else the streams may start mid-way).
    pub syn_seen: bool,
    /// Client → server bytes, in order.
    pub client_data: Vec<u8>,
    /// Server → client bytes, in order.
    pub server_data: Vec<u8>,
    /// Bytes never delivered because a segment before them is missing
    /// (client → server, server → client).
    pub lost: (u64, u64),
    /// Index of the connection's first packet in the capture.
    pub first_packet: usize,
}

impl TcpConnection {
    /// `client → server`, for names.
    pub fn name(&self) -> String {
        let show = |a: &Option<SocketAddr>| a.map_or("?".to_string(), |a| a.to_string());
        format!("{} → {}", show(&self.client), show(&self.server))
    }
}

/// What a capture held.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// Packets read.
    pub packets: usize,
    /// Packets that were not TCP over IPv4/IPv6 on a known link type, or were
    /// cut by the snap length, or were IP fragments.
    pub skipped: usize,
    /// The file ended inside a block.
    pub truncated: bool,
    /// TCP connections in order of their first packet.
    pub connections: Vec<TcpConnection>,
}

/// A TCP segment, as far as reassembly needs it.
struct Segment<'a> {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    ack: bool,
    fin_or_rst: bool,
    payload: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The IP packet inside a link-layer frame.
fn ip_of(linktype: i32, frame: &[u8]) -> Option<&[u8]> {
    match linktype {
        // Ethernet, with at most one 802.1Q tag.
        1 => {
            let (ethertype, at) = match be16(frame, 12)? {
                0x8100 => (be16(frame, 16)?, 18),
                t => (t, 14),
            };
            matches!(ethertype, 0x0800 | 0x86dd).then(|| frame.get(at..))?
        }
        // BSD loopback: a 4-byte address family, host (0) or network (108) order.
        0 | 108 => frame.get(4..),
        // Raw IP.
        12 | 101 | 228 | 229 => Some(frame),
        // Linux cooked captures v1 and v2.
        113 => matches!(be16(frame, 14)?, 0x0800 | 0x86dd).then(|| frame.get(16..))?,
        276 => matches!(be16(frame, 0)?, 0x0800 | 0x86dd).then(|| frame.get(20..))?,
        _ => None,
    }
}

/// The TCP segment inside an IP packet (`None`: not TCP, a fragment, or cut).
fn segment_of(ip: &[u8]) -> Option<Segment<'_>> {
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)?;
            if ihl < 20 || total < ihl || *ip.get(9)? != 6 || frag & 0x3fff != 0 {
                return None;
            }
            let src = Ipv4Addr::from(be32(ip, 12)?);
            let dst = Ipv4Addr::from(be32(ip, 16)?);
            (IpAddr::V4(src), IpAddr::V4(dst), ip.get(ihl..total)?)
        }
        6 => {
            let payload = usize::from(be16(ip, 4)?);
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let mut next = *ip.get(6)?;
            let mut at = 40;
            let end = 40 + payload;
            // Hop-by-hop, routing and destination options may precede TCP.
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        next = *ip.get(at)?;
                        at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
                    }
                    _ => break,
                }
            }
            if next != 6 {
                return None;
            }
            (
                IpAddr::V6(Ipv6Addr::from(src)),
                IpAddr::V6(Ipv6Addr::from(dst)),
                ip.get(at..end)?,
            )
        }
        _ => return None,
    };
    let offset = usize::from(*tcp.get(12)? >> 4) * 4;
    let flags = *tcp.get(13)?;
    if offset < 20 {
        return None;
    }
    Some(Segment {
        src: SocketAddr::new(src, be16(tcp, 0)?),
        dst: SocketAddr::new(dst, be16(tcp, 2)?),
        seq: be32(tcp, 4)?,
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        fin_or_rst: flags & 0x05 != 0,
        payload: tcp.get(offset..)?,
    })
}

/// One direction of a connection being reassembled.
#[derive(Debug, Default)]
struct Half {
    /// Sequence number of the first data byte.
    base: Option<u32>,
    /// Offset (from `base`) of the next byte to deliver.
    next: u64,
    /// Segments past a gap, by offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// Bytes dropped because `pending` was full.
    dropped: u64,
}

impl Half {
    /// The 64-bit offset of `seq`: the one nearest to `next` (sequence numbers wrap).
    fn offset_of(&self, seq: u32, base: u32) -> u64 {
        let rel = u64::from(seq.wrapping_sub(base));
        let epoch = self.next & !0xffff_ffff;
        let candidate = epoch | rel;
        if candidate + (1 << 31) < self.next {
            candidate + (1 << 32)
        } else if candidate > self.next + (1 << 31) && candidate >= 1 << 32 {
            candidate - (1 << 32)
        } else {
            candidate
        }
    }

    fn push(&mut self, seq: u32, payload: &[u8], out: &mut Vec<u8>) {
        let base = *self.base.get_or_insert(seq);
        if payload.is_empty() {
            return;
        }
        let at = self.offset_of(seq, base);
        let end = at + payload.len() as u64;
        if end <= self.next {
            return; // a retransmission of delivered bytes
        }
        if at > self.next {
            if self.pending_bytes + payload.len() > MAX_PENDING {
                self.dropped += payload.len() as u64;
                return;
            }
            self.pending_bytes += payload.len();
            if let Some(old) = self.pending.insert(at, payload.to_vec()) {
                self.pending_bytes -= old.len();
            }
            return;
        }
        out.extend_from_slice(&payload[(self.next - at) as usize..]);
        self.next = end;
        while let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next {
                break;
            }
            let Some((_, p)) = self.pending.pop_first() else {
                break;
            };
            self.pending_bytes -= p.len();
            let end = at + p.len() as u64;
            if end > self.next {
                out.extend_from_slice(&p[(self.next - at) as usize..]);
                self.next = end;
            }
        }
    }

    fn lost(&self) -> u64 {
        self.dropped + self.pending.values().map(|p| p.len() as u64).sum::<u64>()
    }
}

#[derive(Debug, Default)]
struct Flow {
    conn: TcpConnection,
    /// Halves keyed by the sending endpoint.
    halves: HashMap<SocketAddr, Half>,
    closed: bool,
}

/// Reassembles every TCP connection of a capture.
#[derive(Debug, Default)]
struct Reassembler {
    flows: Vec<Flow>,
    /// The current flow of each endpoint pair (lower address first).
    current: HashMap<(SocketAddr, SocketAddr), usize>,
    packets: usize,
    skipped: usize,
}

impl Reassembler {
    fn packet(&mut self, linktype: i32, frame: &[u8]) {
        let index = self.packets;
        self.packets += 1;
        let Some(s) = ip_of(linktype, frame).and_then(segment_of) else {
            self.skipped += 1;
            return;
        };
        let key = if s.src <= s.dst {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        };
        let opening = s.syn && !s.ack;
        let reuse = self.current.get(&key).copied().filter(|&i| {
            let f = &self.flows[i];
            // A new handshake on a pair that already carried a connection
            // starts a new one (port reuse).
            !(opening && (f.closed || f.halves.values().any(|h| h.next > 0)))
        });
        let i = match reuse {
            Some(i) => i,
            None => {
                let (client, server) = if opening || s.src.port() > s.dst.port() {
                    (s.src, s.dst)
                } else {
                    (s.dst, s.src)
                };
                self.flows.push(Flow {
                    conn: TcpConnection {
                        client: Some(client),
                        server: Some(server),
                        syn_seen: opening,
                        first_packet: index,
                        ..TcpConnection::default()
                    },
                    ..Flow::default()
                });
                self.current.insert(key, self.flows.len() - 1);
                self.flows.len() - 1
            }
        };
        let f = &mut self.flows[i];
        let half = f.halves.entry(s.src).or_default();
        if s.syn {
            half.base = Some(s.seq.wrapping_add(1));
        }
        let out = if Some(s.src) == f.conn.client {
            &mut f.conn.client_data
        } else {
            &mut f.conn.server_data
        };
        half.push(s.seq, s.payload, out);
        if s.fin_or_rst {
            f.closed = true;
        }
    }

    fn finish(self, truncated: bool) -> Capture {
        let connections = self
            .flows
            .into_iter()
            .map(|mut f| {
                let lost =
                    |a: Option<SocketAddr>| a.and_then(|a| f.halves.get(&a)).map_or(0, Half::lost);
                f.conn.lost = (lost(f.conn.client), lost(f.conn.server));
                f.conn
            })
            .collect();
        Capture {
            packets: self.packets,
            skipped: self.skipped,
            truncated,
            connections,
        }
    }
}

/// Reads a pcap or pcapng capture held in memory and reassembles its TCP
/// connections.
pub fn read(data: &[u8]) -> Result<Capture, PcapReadError> {
    if !is_capture(data) {
        return Err(PcapReadError::NotPcap);
    }
    // The whole file fits the reader's buffer, so running out of bytes means
    // the file ends inside a block.
    let mut reader = create_reader(data.len().max(64), data).map_err(|_| PcapReadError::Block {
        offset: 0,
        problem: diagnose(data, 0),
    })?;
    let mut r = Reassembler::default();
    let mut legacy_linktype = 1;
    let mut interfaces: Vec<i32> = Vec::new();
    let mut offset = 0u64;
    let mut truncated = false;
    loop {
        match reader.next() {
            Ok((used, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => legacy_linktype = h.network.0,
                    PcapBlockOwned::Legacy(b) => r.packet(legacy_linktype, b.data),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(idb.linktype.0)
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let link = interfaces.get(epb.if_id as usize).copied().unwrap_or(-1);
                        r.packet(link, epb.data)
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let link = interfaces.first().copied().unwrap_or(-1);
                        r.packet(link, spb.data)
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                offset += used as u64;
                reader.consume(used);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::UnexpectedEof) => {
                truncated = true;
                break;
            }
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    truncated = offset < data.len() as u64;
                    break;
                }
                if reader.refill().is_err() {
                    truncated = true;
                    break;
                }
            }
            Err(_) => {
                let problem = diagnose(data, offset);
                return Err(PcapReadError::Block { offset, problem });
            }
        }
    }
    Ok(r.finish(truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;

    /// An Ethernet + IPv4 + TCP frame.
    fn v4(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x08, 0x00]);
        let total = (20 + 20 + payload.len()) as u16;
        f.extend([0x45, 0]);
        f.extend(total.to_be_bytes());
        f.extend([0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        f.extend(sport.to_be_bytes());
        f.extend(dport.to_be_bytes());
        f.extend(seq.to_be_bytes());
        f.extend([0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend(payload);
        f
    }

    /// A Linux cooked v2 + IPv6 + TCP frame.
    fn v6_sll2(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x86, 0xdd];
        f.extend([0u8; 18]);
        f.extend([0x60, 0, 0, 0]);
        f.extend(((20 + payload.len()) as u16).to_be_bytes());
        f.extend([6, 64]);
        f.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        f.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        f.extend(sport.to_be_bytes());
        f.extend(dport.to_be_bytes());
        f.extend(seq.to_be_bytes());
        f.extend([0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend(payload);
        f
    }

    fn classic(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = 0xa1b2c3d4u32.to_le_bytes().to_vec();
        out.extend(2u16.to_le_bytes());
        out.extend(4u16.to_le_bytes());
        out.extend([0u8; 8]);
        out.extend(65535u32.to_le_bytes());
        out.extend(linktype.to_le_bytes());
        for f in frames {
            out.extend([0u8; 8]);
            out.extend((f.len() as u32).to_le_bytes());
            out.extend((f.len() as u32).to_le_bytes());
            out.extend(f);
        }
        out
    }

    fn one(linktype: u32, frames: &[Vec<u8>]) -> TcpConnection {
        let c = read(&classic(linktype, frames)).unwrap();
        assert_eq!(c.skipped, 0);
        assert_eq!(c.connections.len(), 1);
        c.connections.into_iter().next().unwrap()
    }

    #[test]
    fn out_of_order_duplicate_and_overlapping_segments() {
        let c = one(
            1,
            &[
                v4(50000, 4000, 99, SYN, b""),
                v4(4000, 50000, 499, SYN | ACK, b""),
                v4(50000, 4000, 106, ACK, b"world"),
                v4(50000, 4000, 100, ACK, b"hello "),
                v4(50000, 4000, 100, ACK, b"hello "),
                v4(50000, 4000, 104, ACK, b"o wor"),
                v4(4000, 50000, 500, ACK, b"ok"),
                v4(50000, 4000, 111, ACK | FIN, b"!"),
            ],
        );
        assert!(c.syn_seen);
        assert_eq!(c.client.unwrap().port(), 50000);
        assert_eq!(c.client_data, b"hello world!");
        assert_eq!(c.server_data, b"ok");
        assert_eq!(c.lost, (0, 0));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let isn = u32::MAX - 5;
        let mut frames = vec![v4(50001, 4000, isn, SYN, b"")];
        let data: Vec<u8> = (0..40).collect();
        for (i, chunk) in data.chunks(10).enumerate() {
            frames.push(v4(
                50001,
                4000,
                isn.wrapping_add(1 + 10 * i as u32),
                ACK,
                chunk,
            ));
        }
        frames.swap(2, 3);
        assert_eq!(one(1, &frames).client_data, data);
    }

    #[test]
    fn a_missing_segment_is_reported_as_lost() {
        let c = one(
            1,
            &[
                v4(50002, 4000, 0, SYN, b""),
                v4(50002, 4000, 1, ACK, b"abc"),
                v4(50002, 4000, 10, ACK, b"xyz!"),
            ],
        );
        assert_eq!(c.client_data, b"abc");
        assert_eq!(c.lost, (4, 0));
    }

    #[test]
    fn a_new_handshake_on_the_same_ports_is_a_new_connection() {
        let frames = [
            v4(50003, 4000, 0, SYN, b""),
            v4(50003, 4000, 1, ACK, b"first"),
            v4(50003, 4000, 6, FIN | ACK, b""),
            v4(50003, 4000, 1000, SYN, b""),
            v4(50003, 4000, 1001, ACK, b"second"),
        ];
        let c = read(&classic(1, &frames)).unwrap();
        let data: Vec<&[u8]> = c.connections.iter().map(|c| &c.client_data[..]).collect();
        assert_eq!(data, [&b"first"[..], &b"second"[..]]);
    }

    #[test]
    fn ipv6_over_linux_cooked_captures() {
        let c = one(
            276,
            &[
                v6_sll2(50004, 4000, 7, ACK, b"mid-"),
                v6_sll2(50004, 4000, 11, ACK, b"stream"),
            ],
        );
        // No handshake: the higher port is taken for the client.
        assert!(!c.syn_seen);
        assert_eq!(c.client.unwrap().port(), 50004);
        assert!(c.client.unwrap().is_ipv6());
        assert_eq!(c.client_data, b"mid-stream");
    }

    #[test]
    fn other_packets_are_skipped() {
        let mut udp = v4(1, 2, 0, 0, b"");
        udp[23] = 17;
        let c = read(&classic(1, &[udp, vec![1, 2, 3]])).unwrap();
        assert_eq!((c.packets, c.skipped, c.connections.len()), (2, 2, 0));
    }
}
