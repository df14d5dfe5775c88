//! The part of AMQP 1.0 an authenticating device needs, encoded and decoded by hand: the type
//! system of OASIS AMQP 1.0 part 1 (section 1.6: every primitive encoding, lists, maps, arrays
//! and described types), the frame layout of part 2 (section 2.3) and the descriptor codes of
//! the performatives (part 2 section 2.7, SASL in part 5 section 5.3.3) and message sections
//! (part 3 section 3.2). Decoding never trusts a length or a count: every read is bounded by
//! the frame, nesting is bounded, and garbage is an error, never a panic.

use std::fmt;

/// Performative and section descriptor codes (domain 0x00000000).
pub mod code {
    pub const OPEN: u64 = 0x10;
    pub const BEGIN: u64 = 0x11;
    pub const ATTACH: u64 = 0x12;
    pub const FLOW: u64 = 0x13;
    pub const TRANSFER: u64 = 0x14;
    pub const DISPOSITION: u64 = 0x15;
    pub const DETACH: u64 = 0x16;
    pub const END: u64 = 0x17;
    pub const CLOSE: u64 = 0x18;
    /// The `error` type (part 2 section 2.8.14).
    pub const ERROR: u64 = 0x1d;
    pub const SOURCE: u64 = 0x28;
    pub const TARGET: u64 = 0x29;
    pub const SASL_MECHANISMS: u64 = 0x40;
    pub const SASL_INIT: u64 = 0x41;
    pub const SASL_OUTCOME: u64 = 0x44;
    pub const PROPERTIES: u64 = 0x73;
    pub const APPLICATION_PROPERTIES: u64 = 0x74;
    pub const AMQP_VALUE: u64 = 0x77;
}

/// Frame types (part 2 section 2.3.1, part 5 section 5.3.1).
pub const AMQP_FRAME: u8 = 0x00;
pub const SASL_FRAME: u8 = 0x01;

/// How deep lists, maps, arrays and described values may nest before decoding gives up: the
/// frames read here nest four deep at most.
const MAX_DEPTH: usize = 16;

/// One AMQP value. Floats keep their bits, so values compare exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Ubyte(u8),
    Ushort(u16),
    Uint(u32),
    Ulong(u64),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    /// float (IEEE 754 binary32) and double (binary64), as bits.
    Float(u32),
    Double(u64),
    /// decimal32/64/128, as their bytes.
    Decimal(Vec<u8>),
    Char(u32),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
    Binary(Vec<u8>),
    String(String),
    Symbol(String),
    List(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Array(Vec<Value>),
    Described(Box<Value>, Box<Value>),
}

impl Value {
    pub fn symbol(text: &str) -> Value {
        Value::Symbol(text.to_owned())
    }

    pub fn string(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    /// A described list with a numeric descriptor: how performatives and sections are sent.
    pub fn described_list(code: u64, fields: Vec<Value>) -> Value {
        Value::Described(Box::new(Value::Ulong(code)), Box::new(Value::List(fields)))
    }

    /// The value as an unsigned or signed integer of any width.
    pub fn as_integer(&self) -> Option<i64> {
        Some(match *self {
            Value::Ubyte(value) => value.into(),
            Value::Ushort(value) => value.into(),
            Value::Uint(value) => value.into(),
            Value::Ulong(value) => i64::try_from(value).ok()?,
            Value::Byte(value) => value.into(),
            Value::Short(value) => value.into(),
            Value::Int(value) => value.into(),
            Value::Long(value) => value,
            _ => return None,
        })
    }

    /// The text of a string or symbol.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::String(text) | Value::Symbol(text) => Some(text),
            _ => None,
        }
    }

    /// The numeric descriptor of a described value, symbolic ones (`amqp:open:list`) mapped to
    /// their codes; and the described value.
    pub fn as_described(&self) -> Option<(u64, &Value)> {
        let Value::Described(descriptor, value) = self else {
            return None;
        };
        let code = match descriptor.as_ref() {
            Value::Ulong(code) => *code,
            Value::Symbol(name) => symbolic_code(name)?,
            _ => return None,
        };
        Some((code, value))
    }

    /// Encodes the value, choosing the smallest encoding (smallulong, str8, list8, ...).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0x40),
            Value::Bool(true) => out.push(0x41),
            Value::Bool(false) => out.push(0x42),
            Value::Ubyte(value) => out.extend_from_slice(&[0x50, *value]),
            Value::Ushort(value) => fixed(out, 0x60, &value.to_be_bytes()),
            Value::Uint(0) => out.push(0x43),
            Value::Uint(value) if *value <= 255 => out.extend_from_slice(&[0x52, *value as u8]),
            Value::Uint(value) => fixed(out, 0x70, &value.to_be_bytes()),
            Value::Ulong(0) => out.push(0x44),
            Value::Ulong(value) if *value <= 255 => out.extend_from_slice(&[0x53, *value as u8]),
            Value::Ulong(value) => fixed(out, 0x80, &value.to_be_bytes()),
            Value::Byte(value) => out.extend_from_slice(&[0x51, *value as u8]),
            Value::Short(value) => fixed(out, 0x61, &value.to_be_bytes()),
            Value::Int(value) if i8::try_from(*value).is_ok() => {
                out.extend_from_slice(&[0x54, *value as i8 as u8]);
            }
            Value::Int(value) => fixed(out, 0x71, &value.to_be_bytes()),
            Value::Long(value) if i8::try_from(*value).is_ok() => {
                out.extend_from_slice(&[0x55, *value as i8 as u8]);
            }
            Value::Long(value) => fixed(out, 0x81, &value.to_be_bytes()),
            Value::Float(bits) => fixed(out, 0x72, &bits.to_be_bytes()),
            Value::Double(bits) => fixed(out, 0x82, &bits.to_be_bytes()),
            Value::Decimal(bytes) => {
                let constructor = match bytes.len() {
                    4 => 0x74,
                    8 => 0x84,
                    _ => 0x94,
                };
                let mut padded = bytes.clone();
                padded.resize(if constructor == 0x94 { 16 } else { bytes.len() }, 0);
                fixed(out, constructor, &padded);
            }
            Value::Char(value) => fixed(out, 0x73, &value.to_be_bytes()),
            Value::Timestamp(value) => fixed(out, 0x83, &value.to_be_bytes()),
            Value::Uuid(bytes) => fixed(out, 0x98, bytes),
            Value::Binary(bytes) => variable(out, 0xa0, 0xb0, bytes),
            Value::String(text) => variable(out, 0xa1, 0xb1, text.as_bytes()),
            Value::Symbol(text) => variable(out, 0xa3, 0xb3, text.as_bytes()),
            Value::List(items) if items.is_empty() => out.push(0x45),
            Value::List(items) => {
                let mut body = Vec::new();
                items.iter().for_each(|item| item.encode(&mut body));
                compound(out, 0xc0, 0xd0, items.len(), &body);
            }
            Value::Map(pairs) => {
                let mut body = Vec::new();
                for (key, value) in pairs {
                    key.encode(&mut body);
                    value.encode(&mut body);
                }
                compound(out, 0xc1, 0xd1, pairs.len() * 2, &body);
            }
            Value::Array(items) => encode_array(out, items),
            Value::Described(descriptor, value) => {
                out.push(0x00);
                descriptor.encode(out);
                value.encode(out);
            }
        }
    }
}

/// A fixed-width value: its constructor, then its bytes in network order (section 1.2).
fn fixed(out: &mut Vec<u8>, constructor: u8, bytes: &[u8]) {
    out.push(constructor);
    out.extend_from_slice(bytes);
}

/// binary, string and symbol: a one-byte length when it fits, else four.
fn variable(out: &mut Vec<u8>, short: u8, long: u8, bytes: &[u8]) {
    if let Ok(length) = u8::try_from(bytes.len()) {
        out.extend_from_slice(&[short, length]);
    } else {
        out.push(long);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

/// list and map: size (which counts the count field) and count, one byte each when both fit.
fn compound(out: &mut Vec<u8>, short: u8, long: u8, count: usize, body: &[u8]) {
    if body.len() < 255 && count <= 255 {
        out.extend_from_slice(&[short, (body.len() + 1) as u8, count as u8]);
    } else {
        out.push(long);
        out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        out.extend_from_slice(&(count as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// An array shares one constructor (section 1.6.24): taken from the first element's encoding,
/// which must be the same for every element, so elements are written in their long form.
fn encode_array(out: &mut Vec<u8>, items: &[Value]) {
    let mut body = Vec::new();
    let constructor = match items.first() {
        None | Some(Value::Null) => 0x40,
        Some(Value::Symbol(_)) => 0xb3,
        Some(Value::String(_)) => 0xb1,
        Some(Value::Binary(_)) => 0xb0,
        Some(Value::Ulong(_)) => 0x80,
        Some(Value::Uint(_)) => 0x70,
        // Only these element types are ever sent; anything else is written as nulls.
        Some(_) => 0x40,
    };
    body.push(constructor);
    for item in items {
        match (constructor, item) {
            (0xb3, Value::Symbol(text)) | (0xb1, Value::String(text)) => {
                body.extend_from_slice(&(text.len() as u32).to_be_bytes());
                body.extend_from_slice(text.as_bytes());
            }
            (0xb0, Value::Binary(bytes)) => {
                body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                body.extend_from_slice(bytes);
            }
            (0x80, Value::Ulong(value)) => body.extend_from_slice(&value.to_be_bytes()),
            (0x70, Value::Uint(value)) => body.extend_from_slice(&value.to_be_bytes()),
            _ => {}
        }
    }
    compound(out, 0xe0, 0xf0, items.len(), &body);
}

/// The symbolic descriptors of the types read here (part 2 section 2.7, part 5 section 5.3.3).
fn symbolic_code(name: &str) -> Option<u64> {
    Some(match name {
        "amqp:open:list" => code::OPEN,
        "amqp:begin:list" => code::BEGIN,
        "amqp:attach:list" => code::ATTACH,
        "amqp:flow:list" => code::FLOW,
        "amqp:transfer:list" => code::TRANSFER,
        "amqp:disposition:list" => code::DISPOSITION,
        "amqp:detach:list" => code::DETACH,
        "amqp:end:list" => code::END,
        "amqp:close:list" => code::CLOSE,
        "amqp:error:list" => code::ERROR,
        "amqp:source:list" => code::SOURCE,
        "amqp:target:list" => code::TARGET,
        "amqp:sasl-mechanisms:list" => code::SASL_MECHANISMS,
        "amqp:sasl-init:list" => code::SASL_INIT,
        "amqp:sasl-outcome:list" => code::SASL_OUTCOME,
        "amqp:properties:list" => code::PROPERTIES,
        "amqp:application-properties:map" => code::APPLICATION_PROPERTIES,
        "amqp:amqp-value:*" => code::AMQP_VALUE,
        _ => return None,
    })
}

/// Why bytes are not valid AMQP: what was wrong, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecError(pub &'static str);

impl fmt::Display for CodecError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

/// A bounds-checked reader: every read fails instead of running past the end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], CodecError> {
        if count > self.bytes.len() {
            return Err(CodecError("a value runs past the end of the frame"));
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    /// A size or count: one byte for the short encodings, four for the long ones, never more
    /// than what is left (every element and every counted byte takes at least a byte).
    fn length(&mut self, long: bool) -> Result<usize, CodecError> {
        let length = if long {
            u32::from_be_bytes(self.array()?) as usize
        } else {
            usize::from(self.byte()?)
        };
        if length > self.bytes.len() {
            return Err(CodecError("a length runs past the end of the frame"));
        }
        Ok(length)
    }
}

/// Decodes one value from the start of `bytes`; returns it and how many bytes it took.
pub fn decode(bytes: &[u8]) -> Result<(Value, usize), CodecError> {
    let mut reader = Reader { bytes };
    let value = read_value(&mut reader, 0)?;
    Ok((value, bytes.len() - reader.bytes.len()))
}

/// Decodes values one after another until `bytes` is used up: a transfer's message sections.
pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<Value>, CodecError> {
    let mut values = Vec::new();
    while !bytes.is_empty() {
        let (value, used) = decode(bytes)?;
        values.push(value);
        bytes = &bytes[used..];
    }
    Ok(values)
}

fn read_value(reader: &mut Reader<'_>, depth: usize) -> Result<Value, CodecError> {
    let constructor = reader.byte()?;
    if constructor == 0x00 {
        return read_described(reader, depth);
    }
    read_primitive(reader, constructor, depth)
}

fn read_described(reader: &mut Reader<'_>, depth: usize) -> Result<Value, CodecError> {
    if depth >= MAX_DEPTH {
        return Err(CodecError("values nest too deep"));
    }
    let descriptor = read_value(reader, depth + 1)?;
    let value = read_value(reader, depth + 1)?;
    Ok(Value::Described(Box::new(descriptor), Box::new(value)))
}

fn read_primitive(
    reader: &mut Reader<'_>,
    constructor: u8,
    depth: usize,
) -> Result<Value, CodecError> {
    Ok(match constructor {
        0x40 => Value::Null,
        0x41 => Value::Bool(true),
        0x42 => Value::Bool(false),
        0x56 => match reader.byte()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            _ => return Err(CodecError("a boolean is neither 0 nor 1")),
        },
        0x50 => Value::Ubyte(reader.byte()?),
        0x60 => Value::Ushort(u16::from_be_bytes(reader.array()?)),
        0x70 => Value::Uint(u32::from_be_bytes(reader.array()?)),
        0x52 => Value::Uint(reader.byte()?.into()),
        0x43 => Value::Uint(0),
        0x80 => Value::Ulong(u64::from_be_bytes(reader.array()?)),
        0x53 => Value::Ulong(reader.byte()?.into()),
        0x44 => Value::Ulong(0),
        0x51 => Value::Byte(reader.byte()? as i8),
        0x61 => Value::Short(i16::from_be_bytes(reader.array()?)),
        0x71 => Value::Int(i32::from_be_bytes(reader.array()?)),
        0x54 => Value::Int((reader.byte()? as i8).into()),
        0x81 => Value::Long(i64::from_be_bytes(reader.array()?)),
        0x55 => Value::Long((reader.byte()? as i8).into()),
        0x72 => Value::Float(u32::from_be_bytes(reader.array()?)),
        0x82 => Value::Double(u64::from_be_bytes(reader.array()?)),
        0x74 => Value::Decimal(reader.take(4)?.to_vec()),
        0x84 => Value::Decimal(reader.take(8)?.to_vec()),
        0x94 => Value::Decimal(reader.take(16)?.to_vec()),
        0x73 => Value::Char(u32::from_be_bytes(reader.array()?)),
        0x83 => Value::Timestamp(i64::from_be_bytes(reader.array()?)),
        0x98 => Value::Uuid(reader.array()?),
        0xa0 | 0xb0 => {
            let length = reader.length(constructor == 0xb0)?;
            Value::Binary(reader.take(length)?.to_vec())
        }
        0xa1 | 0xb1 => {
            let length = reader.length(constructor == 0xb1)?;
            let text = std::str::from_utf8(reader.take(length)?)
                .map_err(|_| CodecError("a string is not UTF-8"))?;
            Value::String(text.to_owned())
        }
        0xa3 | 0xb3 => {
            let length = reader.length(constructor == 0xb3)?;
            let bytes = reader.take(length)?;
            if !bytes.is_ascii() {
                return Err(CodecError("a symbol is not ASCII"));
            }
            Value::Symbol(String::from_utf8_lossy(bytes).into_owned())
        }
        0x45 => Value::List(Vec::new()),
        0xc0 | 0xd0 | 0xc1 | 0xd1 | 0xe0 | 0xf0 => {
            if depth >= MAX_DEPTH {
                return Err(CodecError("values nest too deep"));
            }
            let long = constructor & 0xf0 != 0xc0 && constructor & 0xf0 != 0xe0;
            let size = reader.length(long)?;
            let mut inner = Reader {
                bytes: reader.take(size)?,
            };
            let count = inner.length(long)?;
            let value = match constructor {
                0xc0 | 0xd0 => Value::List(
                    (0..count)
                        .map(|_| read_value(&mut inner, depth + 1))
                        .collect::<Result<_, _>>()?,
                ),
                0xc1 | 0xd1 => {
                    if count % 2 != 0 {
                        return Err(CodecError("a map has an odd number of elements"));
                    }
                    let mut pairs = Vec::with_capacity(count / 2);
                    for _ in 0..count / 2 {
                        let key = read_value(&mut inner, depth + 1)?;
                        pairs.push((key, read_value(&mut inner, depth + 1)?));
                    }
                    Value::Map(pairs)
                }
                _ => read_array(&mut inner, count, depth + 1)?,
            };
            if !inner.bytes.is_empty() {
                return Err(CodecError(
                    "a compound value's size does not match its elements",
                ));
            }
            value
        }
        _ => return Err(CodecError("an unknown type constructor")),
    })
}

/// An array's elements after its one constructor, which may itself be described.
fn read_array(reader: &mut Reader<'_>, count: usize, depth: usize) -> Result<Value, CodecError> {
    let mut constructor = reader.byte()?;
    let descriptor = if constructor == 0x00 {
        let descriptor = read_value(reader, depth + 1)?;
        constructor = reader.byte()?;
        Some(descriptor)
    } else {
        None
    };
    if constructor == 0x00 {
        return Err(CodecError("an array constructor is described twice"));
    }
    let mut items = Vec::with_capacity(count.min(reader.bytes.len()));
    for _ in 0..count {
        let item = read_primitive(reader, constructor, depth + 1)?;
        items.push(match &descriptor {
            Some(descriptor) => Value::Described(Box::new(descriptor.clone()), Box::new(item)),
            None => item,
        });
    }
    Ok(Value::Array(items))
}

/// A performative: its descriptor code and its fields, trailing nulls possibly left out
/// (part 1 section 1.4: a list may end early, the rest being null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performative {
    pub code: u64,
    pub fields: Vec<Value>,
}

impl Performative {
    /// Field `index`, `None` when absent or null.
    pub fn field(&self, index: usize) -> Option<&Value> {
        self.fields
            .get(index)
            .filter(|value| !matches!(value, Value::Null))
    }

    /// The performative's name, for messages: `close`, `sasl-outcome`, ...
    pub fn name(&self) -> String {
        performative_name(self.code)
    }

    /// An `error` (part 2 section 2.8.14) in field `index`: its condition and description.
    pub fn error(&self, index: usize) -> Option<(String, Option<String>)> {
        let (code::ERROR, Value::List(fields)) = self.field(index)?.as_described()? else {
            return None;
        };
        let condition = fields.first()?.as_text()?.to_owned();
        let description = fields.get(1).and_then(Value::as_text).map(str::to_owned);
        Some((condition, description))
    }
}

/// Names of the performatives by descriptor code.
pub fn performative_name(code: u64) -> String {
    match code {
        code::OPEN => "open",
        code::BEGIN => "begin",
        code::ATTACH => "attach",
        code::FLOW => "flow",
        code::TRANSFER => "transfer",
        code::DISPOSITION => "disposition",
        code::DETACH => "detach",
        code::END => "end",
        code::CLOSE => "close",
        code::SASL_MECHANISMS => "sasl-mechanisms",
        code::SASL_INIT => "sasl-init",
        0x42 => "sasl-challenge",
        0x43 => "sasl-response",
        code::SASL_OUTCOME => "sasl-outcome",
        other => return format!("a performative with descriptor {other:#x}"),
    }
    .to_owned()
}

/// One frame: its type, channel, performative (absent in an empty keep-alive frame) and the
/// payload after it (a transfer's message bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub frame_type: u8,
    pub channel: u16,
    pub performative: Option<Performative>,
    pub payload: Vec<u8>,
}

/// A frame of `frame_type` on `channel` carrying `performative` then `payload` (part 2
/// section 2.3: SIZE, DOFF = 2, TYPE, two channel bytes, body).
pub fn encode_frame(frame_type: u8, channel: u16, performative: &Value, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    performative.encode(&mut body);
    body.extend_from_slice(payload);
    let size = (8 + body.len()) as u32;
    let mut frame = size.to_be_bytes().to_vec();
    frame.extend_from_slice(&[2, frame_type]);
    frame.extend_from_slice(&channel.to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

/// Reads one frame from the start of `bytes`: `Ok(None)` while incomplete, the frame and its
/// length once complete. A frame larger than `max_size` is refused before it is buffered.
pub fn parse_frame(bytes: &[u8], max_size: usize) -> Result<Option<(Frame, usize)>, CodecError> {
    let Some(size) = bytes
        .first_chunk::<4>()
        .map(|size| u32::from_be_bytes(*size))
    else {
        return Ok(None);
    };
    let size = size as usize;
    if size < 8 {
        return Err(CodecError("frame size below the 8-byte frame header"));
    }
    if size > max_size {
        return Err(CodecError("a frame larger than the maximum frame size"));
    }
    let Some(frame) = bytes.get(..size) else {
        return Ok(None);
    };
    let data_offset = usize::from(frame[4]) * 4;
    if data_offset < 8 || data_offset > size {
        return Err(CodecError("data offset outside the frame"));
    }
    let body = &frame[data_offset..];
    let (performative, payload) = if body.is_empty() {
        (None, Vec::new())
    } else {
        let (value, used) = decode(body)?;
        let Some((code, Value::List(fields))) = value.as_described() else {
            return Err(CodecError("the frame body is not a described list"));
        };
        let performative = Performative {
            code,
            fields: fields.clone(),
        };
        (Some(performative), body[used..].to_vec())
    };
    Ok(Some((
        Frame {
            frame_type: frame[5],
            channel: u16::from_be_bytes([frame[6], frame[7]]),
            performative,
            payload,
        },
        size,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        value.encode(&mut out);
        out
    }

    #[test]
    fn primitive_encodings_are_those_of_part_1_section_1_6() {
        assert_eq!(encoded(&Value::Null), [0x40]);
        assert_eq!(encoded(&Value::Bool(true)), [0x41]);
        assert_eq!(encoded(&Value::Uint(0)), [0x43]);
        assert_eq!(encoded(&Value::Uint(7)), [0x52, 7]);
        assert_eq!(encoded(&Value::Uint(65536)), [0x70, 0, 1, 0, 0]);
        assert_eq!(encoded(&Value::Ulong(0x10)), [0x53, 0x10]);
        assert_eq!(encoded(&Value::Int(-1)), [0x54, 0xff]);
        assert_eq!(encoded(&Value::Int(200)), [0x71, 0, 0, 0, 200]);
        assert_eq!(encoded(&Value::string("ab")), [0xa1, 2, b'a', b'b']);
        assert_eq!(
            encoded(&Value::symbol("$cbs")),
            [0xa3, 4, b'$', b'c', b'b', b's']
        );
        let long = "x".repeat(300);
        let bytes = encoded(&Value::String(long.clone()));
        assert_eq!(&bytes[..5], &[0xb1, 0, 0, 1, 44]);
        assert_eq!(decode(&bytes).unwrap(), (Value::String(long), 305));
        // The single-byte forms decode to their types.
        assert_eq!(decode(&[0x44]).unwrap().0, Value::Ulong(0));
        assert_eq!(decode(&[0x56, 1]).unwrap().0, Value::Bool(true));
        assert_eq!(decode(&[0x55, 0xfe]).unwrap().0, Value::Long(-2));
    }

    #[test]
    fn open_encodes_as_a_described_list8() {
        // open(container-id "c", hostname "h"): 00 53 10 c0 size count fields.
        let open = Value::described_list(code::OPEN, vec![Value::string("c"), Value::string("h")]);
        assert_eq!(
            encoded(&open),
            [0x00, 0x53, 0x10, 0xc0, 7, 2, 0xa1, 1, b'c', 0xa1, 1, b'h']
        );
        let frame = encode_frame(AMQP_FRAME, 0, &open, &[]);
        assert_eq!(&frame[..8], &[0, 0, 0, 20, 2, 0, 0, 0]);
        let (parsed, used) = parse_frame(&frame, 512).unwrap().unwrap();
        assert_eq!(used, frame.len());
        let performative = parsed.performative.unwrap();
        assert_eq!(performative.name(), "open");
        assert_eq!(performative.field(1), Some(&Value::string("h")));
        assert_eq!(performative.field(2), None);
    }

    #[test]
    fn compound_values_round_trip() {
        let value = Value::described_list(
            code::APPLICATION_PROPERTIES,
            vec![
                Value::Map(vec![
                    (Value::string("status-code"), Value::Int(401)),
                    (
                        Value::string("status-description"),
                        Value::string("Unauthorized"),
                    ),
                ]),
                Value::Array(vec![Value::symbol("ANONYMOUS"), Value::symbol("PLAIN")]),
                Value::List((0..300).map(Value::Uint).collect()),
                Value::Binary(vec![0; 3]),
                Value::Uuid([7; 16]),
                Value::Timestamp(-5),
                Value::Double(1.5f64.to_bits()),
            ],
        );
        let bytes = encoded(&value);
        assert_eq!(decode(&bytes).unwrap(), (value, bytes.len()));
    }

    #[test]
    fn symbolic_descriptors_and_described_arrays_decode() {
        let mut bytes = vec![0x00, 0xa3, 14];
        bytes.extend_from_slice(b"amqp:open:list");
        bytes.extend_from_slice(&[0x45]);
        let (value, _) = decode(&bytes).unwrap();
        assert_eq!(value.as_described().map(|(code, _)| code), Some(code::OPEN));
        // array8 of two described smallulongs.
        let (value, _) = decode(&[0xe0, 7, 2, 0x00, 0x53, 0x01, 0x50, 5, 6]).unwrap();
        let Value::Array(items) = value else { panic!() };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].as_described(), Some((1, &Value::Ubyte(6))));
    }

    #[test]
    fn lies_about_lengths_are_errors() {
        for bytes in [
            &[0xa1, 5, b'a'][..],                      // str8 longer than the frame
            &[0xb0, 0xff, 0xff, 0xff, 0xff, 0][..],    // vbin32 of 4 GiB
            &[0xc0, 3, 9, 0x40][..],                   // list8 counting 9 in 3 bytes
            &[0xc0, 3, 1, 0x40, 0x40][..], // size larger than what follows (count 1 but 2)
            &[0xd1, 0, 0, 0, 5, 0, 0, 0, 1, 0x40][..], // map with an odd count
            &[0xe0, 4, 0xff, 0x40][..],    // array of 255 nulls in 2 bytes
            &[0x56, 2][..],                // boolean 2
            &[0xa1, 1, 0xff][..],          // not UTF-8
            &[0x01][..],                   // no such constructor
            &[][..],
        ] {
            assert!(decode(bytes).is_err(), "{bytes:02x?}");
        }
        // Nesting is bounded.
        let deep = [0x00; 4096];
        assert_eq!(decode(&deep), Err(CodecError("values nest too deep")));
    }

    #[test]
    fn frames_are_bounded_and_parse_incrementally() {
        let close = encode_frame(
            AMQP_FRAME,
            0,
            &Value::described_list(code::CLOSE, vec![]),
            &[],
        );
        for end in 0..close.len() {
            assert_eq!(parse_frame(&close[..end], 512), Ok(None), "{end}");
        }
        assert!(parse_frame(&close, 512).unwrap().is_some());
        assert!(parse_frame(&[0, 0, 0, 4], 512).is_err());
        assert!(parse_frame(&[0, 1, 0, 0], 512).is_err());
        assert!(parse_frame(&[0, 0, 0, 8, 3, 0, 0, 0], 512).is_err());
        // An empty frame: a keep-alive.
        let (empty, _) = parse_frame(&[0, 0, 0, 8, 2, 0, 0, 0], 512)
            .unwrap()
            .unwrap();
        assert_eq!(empty.performative, None);
        // A body that is not a performative.
        assert!(parse_frame(&[0, 0, 0, 9, 2, 0, 0, 0, 0x40], 512).is_err());
    }

    /// Fuzz-style: every prefix and every single-byte corruption of real frames, and
    /// pseudo-random bytes, decode or fail without panicking.
    #[test]
    fn garbage_never_panics() {
        let samples = [
            encode_frame(
                AMQP_FRAME,
                1,
                &Value::described_list(
                    code::TRANSFER,
                    vec![Value::Uint(0), Value::Uint(1), Value::Binary(vec![1])],
                ),
                &encoded(&Value::described_list(
                    code::APPLICATION_PROPERTIES,
                    vec![Value::Map(vec![(Value::string("a"), Value::Long(-300))])],
                )),
            ),
            encode_frame(
                SASL_FRAME,
                0,
                &Value::described_list(
                    code::SASL_MECHANISMS,
                    vec![Value::Array(vec![Value::symbol("ANONYMOUS")])],
                ),
                &[],
            ),
        ];
        for sample in &samples {
            for end in 0..=sample.len() {
                let _ = parse_frame(&sample[..end], 4096);
                let _ = decode_all(&sample[8.min(end)..end]);
            }
            for at in 0..sample.len() {
                for byte in [
                    0x00, 0x01, 0x40, 0x7f, 0x80, 0xa1, 0xb0, 0xc0, 0xd1, 0xf0, 0xff,
                ] {
                    let mut corrupt = sample.clone();
                    corrupt[at] = byte;
                    let _ = parse_frame(&corrupt, 4096);
                    let _ = decode_all(&corrupt[8..]);
                }
            }
        }
        let mut next = crate::test_fixtures::xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64).map(|_| next() as u8).collect();
            let _ = decode_all(&bytes);
            let _ = parse_frame(&bytes, 4096);
        }
    }
}
