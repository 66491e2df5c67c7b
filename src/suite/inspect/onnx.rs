//! ONNX: a `ModelProto` protobuf (`proto/onnx.proto`).
//!
//! prost decodes a message whole, and a ModelProto carries its weights inside it
//! (`TensorProto.raw_data` and the typed `*_data` fields of every initializer): decoding a 2 GB
//! model with prost alone would take 2 GB of memory. So a small protobuf wire-format walker
//! streams the file instead: it reads the few top-level fields wanted, descends into the graph,
//! reads each initializer's dims, data type and name and seeks past its data. Only small
//! messages — graph inputs and outputs, opset imports, metadata entries — are decoded with prost,
//! from bytes whose length is bounded first.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use prost::Message;
use serde_json::Value;

use super::source::{Bad, Res, Source};
use super::{
    Facts, MAX_EXTERNAL_FILES, MAX_IO, MAX_METADATA, MAX_STRING, MAX_TENSORS, Recognised, TensorFacts,
    dominant_precision, element_count, precision_word, put_metadata,
};

/// The types prost generates from `proto/onnx.proto`.
#[allow(missing_docs, dead_code, clippy::all, clippy::pedantic, rustdoc::all)]
pub(super) mod pb {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

/// Largest small message decoded with prost (a graph input, an opset import).
const MAX_MESSAGE: u64 = 16 << 20;
/// Most bytes of names and small messages read into memory in one walk.
const MAX_RETAINED: u64 = 64 << 20;
/// Most protobuf fields looked at in one walk: bounds the time a hostile file can take.
const MAX_FIELDS: u64 = 100_000_000;
/// Most dimensions an initializer may have.
const MAX_DIMS: usize = 64;
/// Most values of an int64 initializer read as a possible shape.
const MAX_SMALL: u64 = 8;

/// Whether the first bytes look like a serialized ModelProto: protobuf writes fields in number
/// order, so a model starts with `ir_version` (field 1, a small varint) and then another
/// ModelProto field.
pub(super) fn looks_like_model(head: &[u8]) -> bool {
    head.len() >= 3
        && head[0] == 0x08
        && (1..=15).contains(&head[1])
        // producer_name, producer_version, domain, model_version, doc_string, graph,
        // opset_import, metadata_props
        && matches!(head[2], 0x12 | 0x1a | 0x22 | 0x28 | 0x32 | 0x3a | 0x42 | 0x72)
}

/// Reads an ONNX model's facts; see the module documentation for how.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>, facts: &mut Facts) -> Res<()> {
    let mut state = State::default();
    let end = src.len();
    let mut walker = Walker { src, fields: 0, retained: 0 };
    let result = walk_model(&mut walker, end, facts, &mut state);
    state.finish(facts);
    if result.is_ok() && facts.recognised == Recognised::Extension {
        return Err(Bad::new("no ONNX model fields (ir_version, graph, opset_import) found"));
    }
    result
}

/// What the walk has found so far; kept in facts even when the walk stops early.
#[derive(Default)]
struct State {
    ir_version: Option<u64>,
    producer_name: Option<String>,
    producer_version: Option<String>,
    graph: bool,
    initializers: u64,
    initializer_names: HashSet<String>,
    params: u64,
    inputs: Vec<TensorFacts>,
    outputs: Vec<TensorFacts>,
    dropped_io: bool,
    /// Small int64 initializers (at most `MAX_SMALL` values): shapes a `ConstantOfShape` may read.
    small_int64: HashMap<String, Vec<i64>>,
    /// `ConstantOfShape` nodes: their shape input and the data type they fill with.
    constant_of_shape: Vec<(String, i32)>,
}

impl State {
    fn finish(self, facts: &mut Facts) {
        if self.ir_version.is_some() || self.graph || !facts.opsets.is_empty() {
            facts.recognised = Recognised::Content;
        }
        facts.format_version = self.ir_version.map(|v| v.to_string());
        let producer = format!(
            "{} {}",
            self.producer_name.unwrap_or_default().trim(),
            self.producer_version.unwrap_or_default().trim()
        );
        facts.producer = Some(producer.trim().to_string()).filter(|p| !p.is_empty());
        // Old IR versions list every weight as a graph input too: those are not inputs.
        let names = self.initializer_names;
        facts.inputs = self.inputs.into_iter().filter(|t| !names.contains(&t.name)).collect();
        facts.outputs = self.outputs;
        if self.graph {
            facts.tensors = Some(self.initializers);
        }
        // Parameters are the elements of the initializers, and of the tensors `ConstantOfShape`
        // nodes fill from a constant shape (as ONNX's "light" test models make their weights),
        // instead of that shape. Weights kept in `Constant` nodes are not counted; with no
        // initializer at all the count is left unknown.
        let mut params = self.params;
        let mut shapes_used = HashSet::new();
        for (input, fill) in &self.constant_of_shape {
            let Some(values) = self.small_int64.get(input) else { continue };
            let Ok(dims) = values.iter().map(|&v| u64::try_from(v)).collect::<Result<Vec<u64>, _>>() else {
                continue;
            };
            let n = element_count(dims);
            params = params.saturating_add(n);
            let count = facts.dtypes.entry(dtype_name(*fill)).or_default();
            *count = count.saturating_add(n);
            if shapes_used.insert(input) {
                let shape_len = values.len() as u64;
                params = params.saturating_sub(shape_len);
                if let Some(count) = facts.dtypes.get_mut("int64") {
                    *count = count.saturating_sub(shape_len);
                    if *count == 0 {
                        facts.dtypes.remove("int64");
                    }
                }
            }
        }
        if self.initializers > 0 || !shapes_used.is_empty() {
            facts.params = Some(params);
        }
        facts.precision = dominant_precision(&facts.dtypes);
        // With no weight tensor to tell (weights kept in Constant nodes or node attributes), the
        // one float type the inputs and outputs declare is the type the model computes in; no
        // float type, or several, say nothing.
        if facts.precision.is_none() {
            let floats: HashSet<&str> = facts
                .inputs
                .iter()
                .chain(&facts.outputs)
                .filter_map(|t| t.dtype.as_deref())
                .filter(|d| d.starts_with("float") || d.starts_with("bfloat"))
                .collect();
            if let [only] = floats.into_iter().collect::<Vec<_>>()[..] {
                facts.precision = precision_word(only);
            }
        }
        if self.dropped_io {
            facts.warnings.push(format!("more than {MAX_IO} graph inputs or outputs: the first {MAX_IO} kept"));
        }
    }
}

fn walk_model<R: Read + Seek>(w: &mut Walker<'_, R>, end: u64, facts: &mut Facts, st: &mut State) -> Res<()> {
    while let Some((field, wire)) = w.next(end)? {
        match (field, wire) {
            (1, Wire::Varint) => st.ir_version = Some(w.varint(end)?),
            (2, Wire::Len(n)) => st.producer_name = Some(w.string(n, "producer_name")?),
            (3, Wire::Len(n)) => st.producer_version = Some(w.string(n, "producer_version")?),
            (4, Wire::Len(n)) => {
                let domain = w.string(n, "the model's domain")?;
                if !domain.is_empty() {
                    put_metadata(facts, "domain", &domain);
                }
            }
            (5, Wire::Varint) => {
                let version = w.varint(end)? as i64;
                put_metadata(facts, "model_version", &version.to_string());
            }
            (7, Wire::Len(n)) => {
                let stop = w.src.pos() + n;
                st.graph = true;
                walk_graph(w, stop, facts, st)?;
            }
            (8, Wire::Len(n)) => {
                let opset: pb::OperatorSetIdProto = w.message(n, "an opset import")?;
                let domain = opset.domain.unwrap_or_default();
                let version = u64::try_from(opset.version.unwrap_or(0)).unwrap_or(0);
                if domain.is_empty() || domain == "ai.onnx" {
                    facts.opset = Some(version);
                }
                if facts.opsets.len() < MAX_METADATA || facts.opsets.contains_key(&domain) {
                    facts.opsets.insert(domain, version);
                }
            }
            (14, Wire::Len(n)) => {
                let entry: pb::StringStringEntryProto = w.message(n, "a metadata entry")?;
                if let Some(key) = entry.key.filter(|k| !k.is_empty()) {
                    put_metadata(facts, &key, entry.value.as_deref().unwrap_or(""));
                }
            }
            (_, wire) => w.skip(wire, end)?,
        }
    }
    Ok(())
}

fn walk_graph<R: Read + Seek>(w: &mut Walker<'_, R>, end: u64, facts: &mut Facts, st: &mut State) -> Res<()> {
    while let Some((field, wire)) = w.next(end)? {
        match (field, wire) {
            (2, Wire::Len(n)) => {
                let name = w.string(n, "the graph's name")?;
                if !name.is_empty() {
                    put_metadata(facts, "graph_name", &name);
                }
            }
            (1, Wire::Len(n)) => {
                let stop = w.src.pos() + n;
                walk_node(w, stop, st)?;
            }
            (5, Wire::Len(n)) => {
                st.initializers += 1;
                if st.initializers > MAX_TENSORS {
                    return Err(Bad::new(format!("more than {MAX_TENSORS} initializers")));
                }
                let stop = w.src.pos() + n;
                walk_initializer(w, stop, facts, st)?;
            }
            (11 | 12, Wire::Len(n)) => {
                let value: pb::ValueInfoProto = w.message(n, "a graph input or output")?;
                let tensor = tensor_facts(&value);
                let list = if field == 11 { &mut st.inputs } else { &mut st.outputs };
                if field == 11 && st.initializer_names.contains(&tensor.name) {
                    continue;
                }
                if list.len() < MAX_IO {
                    list.push(tensor);
                } else {
                    st.dropped_io = true;
                }
            }
            (_, wire) => w.skip(wire, end)?,
        }
    }
    Ok(())
}

/// Adds a dimension read from a file, refusing too many or a negative one.
fn push_dim(dims: &mut Vec<u64>, d: u64) -> Res<()> {
    if dims.len() >= MAX_DIMS {
        return Err(Bad::new(format!("an initializer with more than {MAX_DIMS} dimensions")));
    }
    // dims are int64: a negative one wraps to a huge u64, which is not a real size.
    if d > i64::MAX as u64 {
        return Err(Bad::new("an initializer with a negative dimension"));
    }
    dims.push(d);
    Ok(())
}

/// An initializer (a `TensorProto`): its dims, data type and name; its data is seeked past,
/// except for an int64 tensor of at most `MAX_SMALL` values, which may be a shape.
fn walk_initializer<R: Read + Seek>(w: &mut Walker<'_, R>, end: u64, facts: &mut Facts, st: &mut State) -> Res<()> {
    let mut dims: Vec<u64> = Vec::new();
    let mut data_type = 0;
    let mut name = None;
    let mut small: Vec<i64> = Vec::new();
    while let Some((field, wire)) = w.next(end)? {
        match (field, wire) {
            (1, Wire::Varint) => {
                let d = w.varint(end)?;
                push_dim(&mut dims, d)?;
            }
            (1, Wire::Len(n)) => {
                let stop = w.src.pos() + n;
                while w.src.pos() < stop {
                    let d = w.varint(stop)?;
                    push_dim(&mut dims, d)?;
                }
            }
            (2, Wire::Varint) => data_type = w.varint(end)? as i32,
            (8, Wire::Len(n)) => name = Some(w.string(n, "an initializer's name")?),
            // int64_data, packed or not, and raw_data: read only when small enough to be a shape.
            (7, Wire::Varint) => small.push(w.varint(end)? as i64),
            (7, Wire::Len(n)) if n <= 10 * MAX_SMALL => {
                let stop = w.src.pos() + n;
                while w.src.pos() < stop {
                    small.push(w.varint(stop)? as i64);
                }
            }
            (9, Wire::Len(n)) if n <= 8 * MAX_SMALL && n % 8 == 0 => {
                let raw = w.src.bytes(n, 8 * MAX_SMALL, "an initializer's raw_data")?;
                small.extend(raw.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default())));
            }
            // external_data: where the weights are when they are not in this file.
            (13, Wire::Len(n)) => {
                let entry: pb::StringStringEntryProto = w.message(n, "an initializer's external data")?;
                if entry.key.as_deref() == Some("location")
                    && let Some(location) = entry.value.filter(|l| !l.is_empty())
                    && facts.external_data.len() < MAX_EXTERNAL_FILES
                    && !facts.external_data.contains(&location)
                {
                    facts.external_data.push(location);
                }
            }
            // raw_data, float_data, …: the weights, never read.
            (_, wire) => w.skip(wire, end)?,
        }
    }
    let n = element_count(dims.iter().copied());
    st.params = st.params.saturating_add(n);
    let count = facts.dtypes.entry(dtype_name(data_type)).or_default();
    *count = count.saturating_add(n);
    if let Some(name) = name {
        if data_type == 7
            && dims.len() <= 1
            && small.len() as u64 == n
            && n <= MAX_SMALL
            && (st.small_int64.len() as u64) < MAX_TENSORS
        {
            st.small_int64.insert(name.clone(), small);
        }
        st.initializer_names.insert(name);
    }
    Ok(())
}

/// A node (a `NodeProto`): only a `ConstantOfShape` is noted, with its shape input and fill type.
fn walk_node<R: Read + Seek>(w: &mut Walker<'_, R>, end: u64, st: &mut State) -> Res<()> {
    const OP: &[u8] = b"ConstantOfShape";
    let mut first_input = None;
    let mut constant_of_shape = false;
    // ConstantOfShape fills with float32 zeros unless its `value` attribute says otherwise.
    let mut fill = 1;
    while let Some((field, wire)) = w.next(end)? {
        match (field, wire) {
            (1, Wire::Len(n)) if first_input.is_none() => {
                first_input = Some((w.src.pos(), n));
                w.skip(wire, end)?;
            }
            (4, Wire::Len(n)) if n == OP.len() as u64 => {
                constant_of_shape = w.src.bytes(n, n, "a node's op_type")? == OP;
            }
            (5, Wire::Len(n)) => {
                let stop = w.src.pos() + n;
                if let Some(t) = value_attribute_type(w, stop)? {
                    fill = t;
                }
            }
            (_, wire) => w.skip(wire, end)?,
        }
    }
    if let (true, Some((at, n))) = (constant_of_shape, first_input) {
        if st.constant_of_shape.len() as u64 >= MAX_TENSORS {
            return Err(Bad::new(format!("more than {MAX_TENSORS} ConstantOfShape nodes")));
        }
        let back = w.src.pos();
        w.src.seek_to(at)?;
        let input = w.string(n, "a node's input")?;
        w.src.seek_to(back)?;
        st.constant_of_shape.push((input, fill));
    }
    Ok(())
}

/// The data type of an attribute named `value` holding a tensor (an `AttributeProto` with `t`).
fn value_attribute_type<R: Read + Seek>(w: &mut Walker<'_, R>, end: u64) -> Res<Option<i32>> {
    let mut is_value = false;
    let mut data_type = None;
    while let Some((field, wire)) = w.next(end)? {
        match (field, wire) {
            (1, Wire::Len(5)) => is_value = w.src.bytes(5, 5, "an attribute's name")? == b"value",
            (5, Wire::Len(n)) => {
                let stop = w.src.pos() + n;
                while let Some((field, wire)) = w.next(stop)? {
                    match (field, wire) {
                        (2, Wire::Varint) => data_type = Some(w.varint(stop)? as i32),
                        (_, wire) => w.skip(wire, stop)?,
                    }
                }
            }
            (_, wire) => w.skip(wire, end)?,
        }
    }
    Ok(data_type.filter(|_| is_value))
}

/// A graph input or output as facts.
fn tensor_facts(value: &pb::ValueInfoProto) -> TensorFacts {
    use pb::type_proto::Value as T;
    let name = value.name.clone().unwrap_or_default();
    let (dtype, shape) = match value.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(T::TensorType(t)) => (t.elem_type.map(dtype_name), t.shape.as_ref().map(shape)),
        Some(other) => (Some(type_words(other)), None),
        None => (None, None),
    };
    TensorFacts { name, dtype, shape }
}

fn shape(s: &pb::TensorShapeProto) -> Vec<Value> {
    use pb::tensor_shape_proto::dimension::Value as D;
    s.dim
        .iter()
        .map(|d| match &d.value {
            Some(D::DimValue(v)) => Value::from(*v),
            Some(D::DimParam(p)) => Value::from(p.as_str()),
            None => Value::Null,
        })
        .collect()
}

/// A non-tensor type in words: `sequence(map(int64,float32))`.
fn type_words(t: &pb::type_proto::Value) -> String {
    use pb::type_proto::Value as T;
    let inner = |t: &Option<Box<pb::TypeProto>>| {
        t.as_ref().and_then(|t| t.value.as_ref()).map(type_words).unwrap_or_else(|| "unknown".into())
    };
    match t {
        T::TensorType(t) => t.elem_type.map(dtype_name).unwrap_or_else(|| "unknown".into()),
        T::SequenceType(s) => format!("sequence({})", inner(&s.elem_type)),
        T::MapType(m) => format!("map({},{})", m.key_type.map(dtype_name).unwrap_or_default(), inner(&m.value_type)),
        T::OptionalType(o) => format!("optional({})", inner(&o.elem_type)),
        T::SparseTensorType(s) => format!("sparse({})", s.elem_type.map(dtype_name).unwrap_or_default()),
        T::OpaqueType(o) => format!("opaque({})", o.name.as_deref().unwrap_or("")),
    }
}

/// `TensorProto.DataType` in zoo.yaml's words.
fn dtype_name(t: i32) -> String {
    match t {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17 => "float8e4m3fn",
        18 => "float8e4m3fnuz",
        19 => "float8e5m2",
        20 => "float8e5m2fnuz",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        0 => "undefined",
        other => return format!("type{other}"),
    }
    .into()
}

/// How a field's value is laid out on the wire.
#[derive(Debug, Clone, Copy)]
enum Wire {
    Varint,
    Fixed64,
    /// Length-delimited, with its length, already checked to fit its message.
    Len(u64),
    Fixed32,
}

/// Walks protobuf fields over a `Source`, within the bounds of the enclosing message.
struct Walker<'s, R> {
    src: &'s mut Source<R>,
    fields: u64,
    retained: u64,
}

impl<R: Read + Seek> Walker<'_, R> {
    /// The next field of a message ending at `end`, or `None` at its end.
    fn next(&mut self, end: u64) -> Res<Option<(u64, Wire)>> {
        if self.src.pos() >= end {
            return Ok(None);
        }
        self.fields += 1;
        if self.fields > MAX_FIELDS {
            return Err(Bad::new(format!("more than {MAX_FIELDS} protobuf fields")));
        }
        let key = self.varint(end)?;
        let (field, wire_type) = (key >> 3, key & 7);
        if field == 0 {
            return Err(Bad::new("a protobuf field numbered 0: not a valid ModelProto"));
        }
        let wire = match wire_type {
            0 => Wire::Varint,
            1 => Wire::Fixed64,
            2 => {
                let n = self.varint(end)?;
                let left = end - self.src.pos();
                if n > left {
                    return Err(Bad::new(format!(
                        "field {field} claims {n} bytes, but only {left} remain in its message (truncated?)"
                    )));
                }
                Wire::Len(n)
            }
            5 => Wire::Fixed32,
            3 | 4 => return Err(Bad::new("protobuf groups, which ONNX does not use: not a valid ModelProto")),
            t => return Err(Bad::new(format!("protobuf wire type {t}: not a valid ModelProto"))),
        };
        Ok(Some((field, wire)))
    }

    fn varint(&mut self, end: u64) -> Res<u64> {
        let v = self.src.varint()?;
        self.within(end)?;
        Ok(v)
    }

    fn skip(&mut self, wire: Wire, end: u64) -> Res<()> {
        match wire {
            Wire::Varint => {
                self.src.varint()?;
            }
            Wire::Fixed64 => self.src.skip(8, "a fixed64 field")?,
            Wire::Fixed32 => self.src.skip(4, "a fixed32 field")?,
            Wire::Len(n) => self.src.skip(n, "a field")?,
        }
        self.within(end)
    }

    fn within(&self, end: u64) -> Res<()> {
        if self.src.pos() > end {
            return Err(Bad::new("a protobuf field runs past the end of its message"));
        }
        Ok(())
    }

    /// Reads `n` bytes to keep or decode, within the walk's budget.
    fn keep(&mut self, n: u64, cap: u64, what: &str) -> Res<Vec<u8>> {
        self.retained = self.retained.saturating_add(n);
        if self.retained > MAX_RETAINED {
            return Err(Bad::new(format!(
                "more than {} MiB of names and small messages: the rest not read",
                MAX_RETAINED >> 20
            )));
        }
        self.src.bytes(n, cap, what)
    }

    fn string(&mut self, n: u64, what: &str) -> Res<String> {
        let bytes = self.keep(n, MAX_STRING, what)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn message<M: Message + Default>(&mut self, n: u64, what: &str) -> Res<M> {
        let bytes = self.keep(n, MAX_MESSAGE, what)?;
        M::decode(bytes.as_slice()).map_err(|e| Bad::new(format!("{what} does not decode: {e}")))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Cursor;

    use super::pb;
    use super::*;
    use crate::suite::inspect::read_from;

    fn tensor_type(elem: i32, dims: &[Result<i64, &str>]) -> pb::TypeProto {
        use pb::tensor_shape_proto::{Dimension, dimension::Value as D};
        pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: Some(elem),
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                Ok(v) => D::DimValue(*v),
                                Err(p) => D::DimParam(p.to_string()),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }
    }

    fn value_info(name: &str, ty: pb::TypeProto) -> pb::ValueInfoProto {
        pb::ValueInfoProto { name: Some(name.into()), r#type: Some(ty), ..Default::default() }
    }

    fn initializer(name: &str, data_type: i32, dims: &[i64]) -> pb::TensorProto {
        let n: i64 = dims.iter().product();
        pb::TensorProto {
            name: Some(name.into()),
            data_type: Some(data_type),
            dims: dims.to_vec(),
            raw_data: Some(vec![7; n as usize * 4]),
            ..Default::default()
        }
    }

    /// A small model as prost writes it: IR 8, opsets 17 and ai.onnx.ml 3, a weight listed as
    /// an input too (as old IR versions did).
    pub(in crate::suite::inspect) fn model_bytes() -> Vec<u8> {
        let graph = pb::GraphProto {
            name: Some("main_graph".into()),
            initializer: vec![initializer("w", 1, &[4, 3]), initializer("b", 10, &[4])],
            input: vec![
                value_info("x", tensor_type(1, &[Err("batch"), Ok(3)])),
                value_info("w", tensor_type(1, &[Ok(4), Ok(3)])),
            ],
            output: vec![value_info("y", tensor_type(1, &[Err("batch"), Ok(4)]))],
            ..Default::default()
        };
        let model = pb::ModelProto {
            ir_version: Some(8),
            producer_name: Some("pytorch".into()),
            producer_version: Some("2.1.0".into()),
            graph: Some(graph),
            opset_import: vec![
                pb::OperatorSetIdProto { domain: Some(String::new()), version: Some(17) },
                pb::OperatorSetIdProto { domain: Some("ai.onnx.ml".into()), version: Some(3) },
            ],
            metadata_props: vec![pb::StringStringEntryProto { key: Some("author".into()), value: Some("zoo".into()) }],
            ..Default::default()
        };
        model.encode_to_vec()
    }

    fn facts_of(bytes: &[u8], ext: &str) -> Facts {
        read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, ext, None)
    }

    #[test]
    fn a_model_gives_versions_opsets_io_and_initializer_params() {
        let f = facts_of(&model_bytes(), "onnx");
        assert_eq!(f.recognised, Recognised::Content, "{f:?}");
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!((f.format.as_str(), f.framework.as_str()), ("onnx", "onnx"));
        assert_eq!(f.format_version.as_deref(), Some("8"));
        assert_eq!(f.opset, Some(17));
        assert_eq!(f.opsets.get("ai.onnx.ml"), Some(&3));
        assert_eq!(f.opsets.get(""), Some(&17));
        assert_eq!(f.producer.as_deref(), Some("pytorch 2.1.0"));
        assert_eq!(f.params, Some(16));
        assert_eq!(f.tensors, Some(2));
        assert_eq!(f.dtypes.get("float32"), Some(&12));
        assert_eq!(f.dtypes.get("float16"), Some(&4));
        assert_eq!(f.precision.as_deref(), Some("fp32"));
        assert_eq!(f.inputs.len(), 1, "the weight listed as an input is not an input: {:?}", f.inputs);
        assert_eq!(f.inputs[0].name, "x");
        assert_eq!(f.inputs[0].dtype.as_deref(), Some("float32"));
        assert_eq!(f.inputs[0].shape, Some(vec![Value::from("batch"), Value::from(3)]));
        assert_eq!(f.outputs[0].name, "y");
        assert_eq!(f.metadata.get("author").map(String::as_str), Some("zoo"));
        assert_eq!(f.metadata.get("graph_name").map(String::as_str), Some("main_graph"));
    }

    #[test]
    fn external_data_files_are_named_once_each() {
        let external = |name: &str, location: &str| {
            let mut t = initializer(name, 1, &[4, 3]);
            t.data_location = Some(1);
            t.external_data = vec![
                pb::StringStringEntryProto { key: Some("location".into()), value: Some(location.into()) },
                pb::StringStringEntryProto { key: Some("offset".into()), value: Some("0".into()) },
            ];
            t
        };
        let model = pb::ModelProto {
            ir_version: Some(8),
            graph: Some(pb::GraphProto {
                initializer: vec![
                    external("a", "weights/w.bin"),
                    external("b", "weights/w.bin"),
                    external("c", "c.data"),
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let f = facts_of(&model.encode_to_vec(), "onnx");
        assert_eq!(f.external_data, ["weights/w.bin", "c.data"]);
        assert_eq!(f.params, Some(36), "the dims are in the graph, wherever the data is");
        assert!(facts_of(&model_bytes(), "onnx").external_data.is_empty());
    }

    #[test]
    fn constant_of_shape_weights_count_instead_of_their_shapes() {
        let shape = pb::TensorProto {
            name: Some("w_shape".into()),
            data_type: Some(7),
            dims: vec![2],
            raw_data: Some([3i64, 4].iter().flat_map(|v| v.to_le_bytes()).collect()),
            ..Default::default()
        };
        let fill = pb::AttributeProto {
            name: Some("value".into()),
            t: Some(pb::TensorProto { data_type: Some(10), dims: vec![1], ..Default::default() }),
            ..Default::default()
        };
        let node = pb::NodeProto {
            input: vec!["w_shape".into()],
            output: vec!["w".into()],
            op_type: Some("ConstantOfShape".into()),
            attribute: vec![fill],
            ..Default::default()
        };
        let model = pb::ModelProto {
            ir_version: Some(3),
            graph: Some(pb::GraphProto {
                node: vec![node],
                initializer: vec![shape, initializer("b", 1, &[4])],
                ..Default::default()
            }),
            ..Default::default()
        };
        let f = facts_of(&model.encode_to_vec(), "onnx");
        assert_eq!(f.params, Some(12 + 4), "{f:?}");
        assert_eq!(f.dtypes.get("float16"), Some(&12));
        assert_eq!(f.dtypes.get("int64"), None);
        assert_eq!(f.precision.as_deref(), Some("fp16"));
        assert_eq!(f.tensors, Some(2));
    }

    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A model whose one initializer holds 4 GiB of raw_data (a sparse file): the walk seeks
    /// past the weights instead of reading them.
    #[test]
    fn weights_are_seeked_past_not_read() {
        const DATA: u64 = 4 << 30;
        let mut tensor = vec![0x08];
        varint(&mut tensor, DATA / 4);
        tensor.extend_from_slice(&[0x10, 0x01, 0x42, 0x01, b'w', 0x4a]);
        varint(&mut tensor, DATA);
        let mut graph = vec![0x2a];
        varint(&mut graph, tensor.len() as u64 + DATA);
        graph.extend_from_slice(&tensor);
        let mut model = vec![0x08, 0x08, 0x3a];
        varint(&mut model, graph.len() as u64 + DATA);
        model.extend_from_slice(&graph);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.onnx");
        let file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &file, &model).unwrap();
        file.set_len(model.len() as u64 + DATA).unwrap();
        let started = std::time::Instant::now();
        let f = crate::suite::inspect::read(&path);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!((f.params, f.tensors), (Some(DATA / 4), Some(1)));
    }

    #[test]
    fn a_model_without_the_extension_is_recognised_by_content() {
        let f = facts_of(&model_bytes(), "bin");
        assert_eq!((f.format.as_str(), f.recognised), ("onnx", Recognised::Content));
    }

    #[test]
    fn non_tensor_outputs_are_described_in_words() {
        let map = pb::TypeProto {
            value: Some(pb::type_proto::Value::MapType(Box::new(pb::type_proto::Map {
                key_type: Some(7),
                value_type: Some(Box::new(tensor_type(1, &[]))),
            }))),
            ..Default::default()
        };
        let seq = pb::TypeProto {
            value: Some(pb::type_proto::Value::SequenceType(Box::new(pb::type_proto::Sequence {
                elem_type: Some(Box::new(map)),
            }))),
            ..Default::default()
        };
        let t = tensor_facts(&value_info("probabilities", seq));
        assert_eq!(t.dtype.as_deref(), Some("sequence(map(int64,float32))"));
        assert_eq!(t.shape, None);
    }

    #[test]
    fn a_field_claiming_a_terabyte_is_a_warning_not_an_allocation() {
        // ir_version 8, then field 7 (graph) claiming 2^40 bytes.
        let mut bytes = vec![0x08, 0x08, 0x3a];
        let mut n: u64 = 1 << 40;
        while n >= 0x80 {
            bytes.push((n as u8) | 0x80);
            n >>= 7;
        }
        bytes.push(n as u8);
        bytes.extend_from_slice(&[0; 32]);
        let f = facts_of(&bytes, "onnx");
        assert_eq!(f.format_version.as_deref(), Some("8"), "partial facts are kept: {f:?}");
        assert!(f.warnings.iter().any(|w| w.contains("claims 1099511627776 bytes")), "{:?}", f.warnings);
    }

    #[test]
    fn a_truncated_model_keeps_what_was_read_and_says_so() {
        let bytes = model_bytes();
        let f = facts_of(&bytes[..bytes.len() - 10], "onnx");
        assert_eq!(f.recognised, Recognised::Content);
        assert_eq!(f.format_version.as_deref(), Some("8"));
        assert!(f.warnings.iter().any(|w| w.contains("read only in part")), "{:?}", f.warnings);
    }

    #[test]
    fn text_named_onnx_is_recognised_by_extension_only() {
        let f = facts_of(b"this is not a model at all", "onnx");
        assert_eq!((f.format.as_str(), f.framework.as_str(), f.recognised), ("onnx", "onnx", Recognised::Extension));
        assert!(f.warnings[0].starts_with("not a readable ONNX file"), "{:?}", f.warnings);
    }
}
