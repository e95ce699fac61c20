//! Decodes (and re-encodes) a pickle file N times: a target for profilers.
//! `cargo run --release -p sparkwire-serializers --example decode_file -- FILE [N]`
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: decode_file FILE [N]");
    let n: usize = args.next().map_or(10, |s| s.parse().expect("N"));
    let data = bytes::Bytes::from(std::fs::read(path).expect("read"));
    let mut nodes = 0;
    for _ in 0..n {
        let d = sparkwire_serializers::pickle::decode(&data).expect("decode");
        nodes += d.graph.len();
    }
    println!("{nodes} nodes");
}
