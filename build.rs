//! Compiles `proto/onnx.proto` (ONNX's protobuf schema) into Rust types with prost. protox parses
//! the schema in Rust, so building needs no `protoc`.

fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let descriptors = protox::compile(["onnx.proto"], ["proto"]).expect("proto/onnx.proto compiles");
    prost_build::Config::new().compile_fds(descriptors).expect("prost generates the ONNX types");
}
