//! OpenVINO IR: an XML graph (`<net>` with `<layers>`, `<edges>` and `<rt_info>`) beside a
//! `.bin` holding the weights. The XML is streamed with quick-xml, at most 64 MiB of it:
//! `Parameter` layers are the inputs, `Result` layers the outputs (named after the tensor that
//! feeds them), `Const` layers the weights. The `.bin` is only measured, never read.

use std::collections::HashMap;
use std::io::{BufRead, Read, Seek};
use std::path::Path;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use serde_json::Value;

use super::source::{Bad, Res, Source, bytes_in_words};
use super::{Facts, MAX_IO, MAX_TENSORS, Recognised, TensorFacts, dominant_precision, element_count};

/// Largest XML read.
const MAX_XML: u64 = 64 << 20;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 256;

/// Reads an OpenVINO IR's facts; `path`, when known, finds the `.bin` beside it.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>, facts: &mut Facts, path: Option<&Path>) -> Res<()> {
    let len = src.len();
    let mut graph = Graph::default();
    let result = walk(src.reader().take(MAX_XML), facts, &mut graph);
    if facts.recognised == Recognised::Content {
        graph.finish(facts);
        if len > MAX_XML {
            facts.warnings.push(format!("the XML is larger than {}: the rest not read", bytes_in_words(MAX_XML)));
        }
        if let Some(path) = path {
            check_bin(path, graph.weights_end, facts);
        }
    }
    result
}

/// A layer's output ports: port id and first tensor name.
type OutputNames = Vec<(String, Option<String>)>;

/// What the walk collects.
#[derive(Default)]
struct Graph {
    /// Layer id → layer name and output ports.
    layers: HashMap<String, (String, OutputNames)>,
    /// Result layers: id, name, and what their input port says.
    results: Vec<(String, TensorFacts)>,
    /// to-layer id → (from-layer id, from-port id).
    edges: HashMap<String, (String, String)>,
    params: u64,
    consts: u64,
    weights_end: u64,
}

impl Graph {
    fn finish(&mut self, facts: &mut Facts) {
        for (id, mut tensor) in std::mem::take(&mut self.results) {
            if let Some((from, port)) = self.edges.get(&id)
                && let Some((name, ports)) = self.layers.get(from)
            {
                let tensor_name = ports.iter().find(|(p, _)| p == port).and_then(|(_, n)| n.clone());
                tensor.name = tensor_name.unwrap_or_else(|| name.clone());
            }
            if facts.outputs.len() < MAX_IO {
                facts.outputs.push(tensor);
            }
        }
        facts.params = Some(self.params);
        facts.tensors = Some(self.consts);
        facts.precision = dominant_precision(&facts.dtypes);
    }
}

/// One `<layer>` being read.
#[derive(Default)]
struct Layer {
    id: String,
    name: String,
    kind: String,
    /// `<data>` attributes.
    data: HashMap<String, String>,
    /// Output ports: id, first tensor name, precision, dims.
    outputs: Vec<Port>,
    inputs: Vec<Port>,
}

#[derive(Default)]
struct Port {
    id: String,
    name: Option<String>,
    precision: Option<String>,
    dims: Vec<String>,
}

fn walk<B: BufRead>(input: B, facts: &mut Facts, graph: &mut Graph) -> Res<()> {
    let mut xml = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    // Element names from the root down to the current element.
    let mut path: Vec<String> = Vec::new();
    let mut layer: Option<Layer> = None;
    let mut in_dim = false;
    loop {
        let event = xml.read_event_into(&mut buf).map_err(|e| Bad::new(format!("the XML does not parse: {e}")))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                let attrs = attributes(e)?;
                if path.is_empty() {
                    if name != "net" {
                        return Err(Bad::new(format!("the root element is <{name}>, not <net>: not an OpenVINO IR")));
                    }
                    facts.recognised = Recognised::Content;
                    facts.format_version = attrs.get("version").cloned();
                    facts.name = attrs.get("name").cloned().filter(|n| !n.is_empty());
                }
                element(&path, &name, attrs, &mut layer, facts, graph)?;
                in_dim = !empty && name == "dim";
                if !empty {
                    if path.len() >= MAX_DEPTH {
                        return Err(Bad::new(format!("elements nested more than {MAX_DEPTH} deep")));
                    }
                    path.push(name);
                } else if name == "layer" {
                    end_layer(layer.take(), facts, graph)?;
                }
            }
            Event::Text(t) if in_dim => {
                let parents = &path[..path.len().saturating_sub(1)];
                if let Some(port) = layer.as_mut().and_then(|l| current_port(l, parents)) {
                    port.dims.push(t.xml10_content().trim().to_string());
                }
            }
            Event::End(_) => {
                in_dim = false;
                if path.pop().as_deref() == Some("layer") {
                    end_layer(layer.take(), facts, graph)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if facts.recognised == Recognised::Extension {
        return Err(Bad::new("no <net> element: not an OpenVINO IR"));
    }
    if !path.is_empty() {
        return Err(Bad::new("the XML ends early (truncated?)"));
    }
    Ok(())
}

/// An element's attributes, unescaped.
fn attributes(e: &BytesStart<'_>) -> Res<HashMap<String, String>> {
    let mut out = HashMap::new();
    for a in e.attributes() {
        let a = a.map_err(|e| Bad::new(format!("an XML attribute does not parse: {e}")))?;
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| Bad::new(format!("an XML attribute does not parse: {e}")))?;
        out.insert(a.key.local_name().as_ref().to_string(), value.into_owned());
    }
    Ok(out)
}

/// The port being read when `path` ends in `…/output/port` or `…/input/port`.
fn current_port<'l>(layer: &'l mut Layer, path: &[String]) -> Option<&'l mut Port> {
    let n = path.len();
    if n < 2 || path[n - 1] != "port" {
        return None;
    }
    match path[n - 2].as_str() {
        "output" => layer.outputs.last_mut(),
        "input" => layer.inputs.last_mut(),
        _ => None,
    }
}

/// Handles an opening element at `path`.
fn element(
    path: &[String],
    name: &str,
    mut attrs: HashMap<String, String>,
    layer: &mut Option<Layer>,
    facts: &mut Facts,
    graph: &mut Graph,
) -> Res<()> {
    let parent = path.last().map(String::as_str);
    match (parent, name) {
        (Some("layers"), "layer") => {
            *layer = Some(Layer {
                id: attrs.remove("id").unwrap_or_default(),
                name: attrs.remove("name").unwrap_or_default(),
                kind: attrs.remove("type").unwrap_or_default(),
                ..Layer::default()
            });
        }
        (Some("layer"), "data") => {
            if let Some(l) = layer.as_mut() {
                l.data = attrs;
            }
        }
        (Some("output" | "input"), "port") => {
            if let Some(l) = layer.as_mut() {
                let port = Port {
                    id: attrs.remove("id").unwrap_or_default(),
                    name: attrs.remove("names").and_then(|n| first_name(&n)),
                    precision: attrs.remove("precision"),
                    dims: Vec::new(),
                };
                if parent == Some("output") { l.outputs.push(port) } else { l.inputs.push(port) }
            }
        }
        (Some("edges"), "edge") => {
            if let (Some(from), Some(port), Some(to)) =
                (attrs.remove("from-layer"), attrs.remove("from-port"), attrs.remove("to-layer"))
            {
                graph.edges.insert(to, (from, port));
            }
        }
        (_, "Runtime_version" | "MO_version") if path.iter().any(|p| p == "rt_info") => {
            if let Some(v) = attrs.remove("value").filter(|v| !v.is_empty())
                && (facts.producer.is_none() || name == "Runtime_version")
            {
                facts.producer = Some(format!("OpenVINO {v}"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The first tensor name of a port's comma-separated `names` (commas inside names are `\,`).
fn first_name(names: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = names.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            ',' => break,
            c => out.push(c),
        }
    }
    Some(out.trim().to_string()).filter(|n| !n.is_empty())
}

/// Records a finished layer.
fn end_layer(layer: Option<Layer>, facts: &mut Facts, graph: &mut Graph) -> Res<()> {
    let Some(l) = layer else { return Ok(()) };
    match l.kind.as_str() {
        "Parameter" => {
            let dtype = l.data.get("element_type").map(|t| dtype_name(t));
            let port = l.outputs.first();
            let shape = match l.data.get("shape") {
                Some(s) => Some(parse_shape(s)),
                None => port.map(|p| p.dims.iter().map(|d| dim(d)).collect()),
            };
            let name = port.and_then(|p| p.name.clone()).unwrap_or_else(|| l.name.clone());
            if facts.inputs.len() < MAX_IO {
                facts.inputs.push(TensorFacts { name, dtype, shape });
            }
        }
        "Result" => {
            let port = l.inputs.first();
            let dtype = port.and_then(|p| p.precision.as_deref()).map(dtype_name);
            let shape = port.map(|p| p.dims.iter().map(|d| dim(d)).collect());
            let name = l.name.strip_suffix("/sink_port_0").unwrap_or(&l.name).to_string();
            if graph.results.len() < MAX_IO {
                graph.results.push((l.id.clone(), TensorFacts { name, dtype, shape }));
            }
        }
        "Const" => {
            graph.consts += 1;
            if graph.consts > MAX_TENSORS {
                return Err(Bad::new(format!("more than {MAX_TENSORS} Const layers")));
            }
            let shape = l.data.get("shape").map(String::as_str).unwrap_or("");
            let n = element_count(
                shape.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse::<u64>().unwrap_or(0)),
            );
            graph.params = graph.params.saturating_add(n);
            let dtype = dtype_name(l.data.get("element_type").map(String::as_str).unwrap_or("undefined"));
            let count = facts.dtypes.entry(dtype).or_default();
            *count = count.saturating_add(n);
            let number = |k: &str| l.data.get(k).and_then(|v| v.trim().parse::<u64>().ok());
            if let (Some(offset), Some(size)) = (number("offset"), number("size")) {
                graph.weights_end = graph.weights_end.max(offset.saturating_add(size));
            }
        }
        _ => {}
    }
    let ports = l.outputs.into_iter().map(|p| (p.id, p.name)).collect();
    graph.layers.insert(l.id, (l.name, ports));
    Ok(())
}

/// `1,3,224,224`, `?,3,-1,1..10` → numbers, null for dynamic, a string for a range.
fn parse_shape(s: &str) -> Vec<Value> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    s.split(',').map(str::trim).filter(|d| !d.is_empty()).map(dim).collect()
}

fn dim(d: &str) -> Value {
    match d.parse::<i64>() {
        Ok(n) if n >= 0 => Value::from(n),
        Ok(_) => Value::Null,
        Err(_) if d == "?" => Value::Null,
        Err(_) => Value::from(d),
    }
}

/// An OpenVINO element type (`f32`) or port precision (`FP32`) in zoo.yaml's words.
fn dtype_name(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    match t.as_str() {
        "f32" | "fp32" => "float32",
        "f16" | "fp16" => "float16",
        "bf16" => "bfloat16",
        "f64" | "fp64" => "float64",
        "i4" => "int4",
        "u4" => "uint4",
        "i8" => "int8",
        "u8" => "uint8",
        "i16" => "int16",
        "u16" => "uint16",
        "i32" => "int32",
        "u32" => "uint32",
        "i64" => "int64",
        "u64" => "uint64",
        "u1" => "uint1",
        "boolean" | "bool" => "bool",
        "f8e4m3" => "float8e4m3",
        "f8e5m2" => "float8e5m2",
        _ => return t,
    }
    .into()
}

/// Warns when the `.bin` beside the XML is missing or shorter than the weights it must hold.
fn check_bin(xml: &Path, weights_end: u64, facts: &mut Facts) {
    let bin = xml.with_extension("bin");
    let shown = bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match std::fs::metadata(&bin) {
        Ok(m) if m.len() < weights_end => facts.warnings.push(format!(
            "the weights file {shown} has {} bytes, but the graph's constants need {weights_end}: truncated?",
            m.len()
        )),
        Ok(_) => {}
        Err(_) if weights_end == 0 => {}
        Err(_) => facts.warnings.push(format!("the weights file {shown} is missing")),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::suite::inspect::read_from;

    /// A small IR as OpenVINO 2024 writes it: an input, a convolution's weights, a softmax
    /// output.
    pub(in crate::suite::inspect) const XML: &str = r#"<?xml version="1.0"?>
<net name="squeezenet" version="11">
  <layers>
    <layer id="0" name="data_0" type="Parameter" version="opset1">
      <data shape="?,3,224,224" element_type="f32" />
      <output>
        <port id="0" precision="FP32" names="data_0">
          <dim>-1</dim><dim>3</dim><dim>224</dim><dim>224</dim>
        </port>
      </output>
    </layer>
    <layer id="1" name="conv1_w_0" type="Const" version="opset1">
      <data element_type="f16" shape="64, 3, 3, 3" offset="0" size="3456" />
      <output><port id="0" precision="FP16"><dim>64</dim><dim>3</dim><dim>3</dim><dim>3</dim></port></output>
    </layer>
    <layer id="2" name="bias" type="Const" version="opset1">
      <data element_type="f32" shape="64" offset="3456" size="256" />
      <output><port id="0" precision="FP32"><dim>64</dim></port></output>
    </layer>
    <layer id="3" name="softmax" type="SoftMax" version="opset8">
      <input><port id="0" precision="FP32"><dim>-1</dim><dim>1000</dim></port></input>
      <output><port id="1" precision="FP32" names="softmaxout_1"><dim>-1</dim><dim>1000</dim></port></output>
    </layer>
    <layer id="4" name="softmaxout_1/sink_port_0" type="Result" version="opset1">
      <input><port id="0" precision="FP32"><dim>-1</dim><dim>1000</dim></port></input>
    </layer>
  </layers>
  <edges>
    <edge from-layer="0" from-port="0" to-layer="3" to-port="0" />
    <edge from-layer="3" from-port="1" to-layer="4" to-port="0" />
  </edges>
  <rt_info>
    <Runtime_version value="2024.4.0-16579-c3152d32c9c-releases/2024/4" />
  </rt_info>
</net>
"#;

    fn facts_of(bytes: &[u8], path: Option<&Path>) -> Facts {
        read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, "xml", path)
    }

    #[test]
    fn an_ir_gives_inputs_outputs_and_const_params() {
        let f = facts_of(XML.as_bytes(), None);
        assert_eq!(
            (f.format.as_str(), f.framework.as_str(), f.recognised),
            ("openvino", "openvino", Recognised::Content)
        );
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!(f.format_version.as_deref(), Some("11"));
        assert_eq!(f.name.as_deref(), Some("squeezenet"));
        assert_eq!(f.producer.as_deref(), Some("OpenVINO 2024.4.0-16579-c3152d32c9c-releases/2024/4"));
        assert_eq!(f.inputs.len(), 1);
        assert_eq!(f.inputs[0].name, "data_0");
        assert_eq!(f.inputs[0].dtype.as_deref(), Some("float32"));
        assert_eq!(f.inputs[0].shape, Some(vec![Value::Null, Value::from(3), Value::from(224), Value::from(224)]));
        assert_eq!(f.outputs.len(), 1);
        assert_eq!(f.outputs[0].name, "softmaxout_1");
        assert_eq!(f.outputs[0].shape, Some(vec![Value::Null, Value::from(1000)]));
        assert_eq!(f.params, Some(64 * 27 + 64));
        assert_eq!(f.tensors, Some(2));
        assert_eq!(f.precision.as_deref(), Some("fp16"));
    }

    #[test]
    fn a_missing_or_short_bin_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let xml = dir.path().join("model.xml");
        std::fs::write(&xml, XML).unwrap();
        let f = crate::suite::inspect::read(&xml);
        assert!(f.warnings.iter().any(|w| w.contains("model.bin is missing")), "{:?}", f.warnings);
        std::fs::write(dir.path().join("model.bin"), [0u8; 100]).unwrap();
        let f = crate::suite::inspect::read(&xml);
        assert!(f.warnings.iter().any(|w| w.contains("need 3712")), "{:?}", f.warnings);
        std::fs::write(dir.path().join("model.bin"), [0u8; 3712]).unwrap();
        assert!(crate::suite::inspect::read(&xml).warnings.is_empty());
    }

    #[test]
    fn other_xml_is_recognised_by_extension_only() {
        let f = facts_of(b"<?xml version=\"1.0\"?><project><name>x</name></project>", None);
        assert_eq!(f.recognised, Recognised::Extension);
        assert!(f.warnings[0].contains("not <net>"), "{:?}", f.warnings);
    }

    #[test]
    fn a_truncated_ir_keeps_what_was_read() {
        let f = facts_of(&XML.as_bytes()[..XML.len() / 2], None);
        assert_eq!(f.recognised, Recognised::Content);
        assert_eq!(f.inputs.len(), 1);
        assert!(f.warnings.iter().any(|w| w.contains("read only in part")), "{:?}", f.warnings);
    }
}
