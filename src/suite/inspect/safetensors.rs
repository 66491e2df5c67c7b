//! safetensors: an 8-byte little-endian header length, a JSON header (tensor names, dtypes,
//! shapes, data offsets, and `__metadata__`), then the data. Only the header is read; the
//! `safetensors` crate parses and validates it.

use std::io::{Read, Seek};

use ::safetensors::tensor::{Dtype, Metadata};

use super::source::{Bad, Res, Source, bytes_in_words};
use super::{Facts, MAX_METADATA, Recognised, dominant_precision, element_count, put_metadata};

/// Largest header read: the `safetensors` crate's own limit is 100 MB.
const MAX_HEADER: u64 = 100 << 20;

/// Reads a safetensors file's header.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>, facts: &mut Facts) -> Res<()> {
    let n = src.u64_le()?;
    if n > MAX_HEADER {
        return Err(Bad::new(format!(
            "the header claims {n} bytes, more than the {} a safetensors header may have",
            bytes_in_words(MAX_HEADER)
        )));
    }
    let header = src.bytes(n, MAX_HEADER, "the header")?;
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| Bad::new(format!("the JSON header does not parse: {e}")))?;
    facts.recognised = Recognised::Content;

    let tensors = metadata.tensors();
    facts.tensors = Some(tensors.len() as u64);
    let mut params = 0u64;
    for info in tensors.values() {
        let n = element_count(info.shape.iter().map(|&d| d as u64));
        params = params.saturating_add(n);
        let count = facts.dtypes.entry(dtype_name(info.dtype)).or_default();
        *count = count.saturating_add(n);
    }
    facts.params = Some(params);
    facts.precision = dominant_precision(&facts.dtypes);
    if let Some(meta) = metadata.metadata() {
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort();
        for key in keys.into_iter().take(MAX_METADATA) {
            put_metadata(facts, key, &meta[key]);
        }
    }

    let data_end = 8u64.saturating_add(n).saturating_add(metadata.data_len() as u64);
    if data_end > src.len() {
        // The header was read (the facts stand), but the weights are cut short.
        return Err(Bad::new(format!(
            "the header describes {data_end} bytes of file, but the file has {}: truncated",
            src.len()
        )));
    } else if data_end < src.len() {
        facts.warnings.push(format!("{} bytes after the last tensor's data", src.len() - data_end));
    }
    Ok(())
}

/// A safetensors dtype in zoo.yaml's words.
fn dtype_name(d: Dtype) -> String {
    match d {
        Dtype::BOOL => "bool",
        Dtype::U8 => "uint8",
        Dtype::I8 => "int8",
        Dtype::I16 => "int16",
        Dtype::U16 => "uint16",
        Dtype::F16 => "float16",
        Dtype::BF16 => "bfloat16",
        Dtype::I32 => "int32",
        Dtype::U32 => "uint32",
        Dtype::F32 => "float32",
        Dtype::F64 => "float64",
        Dtype::I64 => "int64",
        Dtype::U64 => "uint64",
        Dtype::C64 => "complex64",
        Dtype::F8_E5M2 => "float8e5m2",
        Dtype::F8_E4M3 => "float8e4m3",
        Dtype::F8_E8M0 => "float8e8m0",
        Dtype::F8_E4M3FNUZ => "float8e4m3fnuz",
        Dtype::F8_E5M2FNUZ => "float8e5m2fnuz",
        Dtype::F4 => "float4",
        Dtype::F6_E2M3 => "float6e2m3",
        Dtype::F6_E3M2 => "float6e3m2",
        other => return format!("{other:?}").to_ascii_lowercase(),
    }
    .into()
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::suite::inspect::read_from;

    /// A file as the format describes it: two tensors, F32 [2,3] and F16 [4], and metadata.
    pub(in crate::suite::inspect) fn file_bytes() -> Vec<u8> {
        let header = br#"{"__metadata__":{"format":"pt","b":"2"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"h":{"dtype":"F16","shape":[4],"data_offsets":[24,32]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 32]);
        bytes
    }

    fn facts_of(bytes: &[u8]) -> Facts {
        read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, "safetensors", None)
    }

    #[test]
    fn the_header_gives_tensors_dtypes_params_and_metadata() {
        let f = facts_of(&file_bytes());
        assert_eq!(f.recognised, Recognised::Content);
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!(f.tensors, Some(2));
        assert_eq!(f.params, Some(10));
        assert_eq!(f.dtypes.get("float32"), Some(&6));
        assert_eq!(f.dtypes.get("float16"), Some(&4));
        assert_eq!(f.precision.as_deref(), Some("fp32"));
        assert_eq!(f.metadata.get("format").map(String::as_str), Some("pt"));
    }

    #[test]
    fn a_header_length_of_2_to_the_60_is_a_warning_without_allocating() {
        let mut bytes = (1u64 << 60).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{\"a\":1}");
        let f = facts_of(&bytes);
        assert_eq!(f.recognised, Recognised::Extension);
        assert!(f.warnings[0].contains("more than the 100 MiB"), "{:?}", f.warnings);
    }

    #[test]
    fn truncated_data_is_a_warning_with_the_header_facts_kept() {
        let bytes = file_bytes();
        let f = facts_of(&bytes[..bytes.len() - 5]);
        assert_eq!((f.recognised, f.params), (Recognised::Content, Some(10)));
        assert!(f.warnings.iter().any(|w| w.contains("truncated")), "{:?}", f.warnings);
    }
}
