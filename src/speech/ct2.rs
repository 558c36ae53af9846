//! Reader for CTranslate2 `model.bin` files (format version 6).
//!
//! The only Whisper weights reachable from a package registry are CTranslate2 exports, so the box
//! reads them itself instead of depending on Python. The format is a flat list of named tensors:
//! `u32 version, string spec, u32 revision, u32 n_vars`, then per variable `string name, u8 rank,
//! u32 dims[rank], u8 dtype, u32 nbytes, data`, then `u32 n_aliases` and `(alias, target)` pairs.
//! Strings are a `u16` length that counts a trailing NUL, then the bytes.

use std::collections::BTreeMap;
use std::path::Path;

/// Element type codes as CTranslate2 writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One named tensor; `data` is the raw little-endian bytes as stored.
#[derive(Clone, Debug)]
pub struct Variable {
    pub dims: Vec<usize>,
    pub dtype: DType,
    pub data: Vec<u8>,
}

impl Variable {
    pub fn elements(&self) -> usize {
        self.dims.iter().product::<usize>().max(1)
    }

    /// Scalar integer flags such as `encoder/num_heads`.
    pub fn as_int(&self) -> Option<i64> {
        if self.elements() != 1 {
            return None;
        }
        let d = &self.data;
        Some(match self.dtype {
            DType::I8 => d[0] as i8 as i64,
            DType::I16 => i16::from_le_bytes([d[0], d[1]]) as i64,
            DType::I32 => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => return None,
        })
    }
}

/// A parsed model: variables by name (aliases are kept apart; the converter does not need them).
#[derive(Debug)]
pub struct Ct2Model {
    pub spec: String,
    pub revision: u32,
    pub variables: BTreeMap<String, Variable>,
    pub aliases: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a CTranslate2 model: {reason}")]
    Format { path: String, reason: String },
}

/// Bounds-checked cursor: a truncated or hostile file must produce an error, never a panic.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("file ends early at byte {} (wanted {n} more)", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        let bytes = self.take(n)?;
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).map_err(|_| "a name is not UTF-8".to_string())
    }
}

impl Ct2Model {
    pub fn load(path: &Path) -> Result<Self, Ct2Error> {
        let buf = std::fs::read(path).map_err(|source| Ct2Error::Io { path: path.display().to_string(), source })?;
        Self::parse(&buf).map_err(|reason| Ct2Error::Format { path: path.display().to_string(), reason })
    }

    pub fn parse(buf: &[u8]) -> Result<Self, String> {
        let mut c = Cursor { buf, pos: 0 };
        let version = c.u32()?;
        if version != 6 {
            return Err(format!("format version {version}, only version 6 is supported"));
        }
        let spec = c.string()?;
        let revision = c.u32()?;
        let n_vars = c.u32()? as usize;
        if n_vars > 100_000 {
            return Err(format!("implausible variable count {n_vars}"));
        }
        let mut variables = BTreeMap::new();
        for _ in 0..n_vars {
            let name = c.string()?;
            let rank = c.u8()? as usize;
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(c.u32()? as usize);
            }
            let code = c.u8()?;
            let dtype = DType::from_code(code).ok_or_else(|| format!("variable {name}: unknown dtype code {code}"))?;
            let nbytes = c.u32()? as usize;
            let elements: usize = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(0);
            if elements.checked_mul(dtype.size()) != Some(nbytes) {
                return Err(format!("variable {name}: {nbytes} bytes do not match shape {dims:?} of {dtype:?}"));
            }
            let data = c.take(nbytes)?.to_vec();
            variables.insert(name, Variable { dims, dtype, data });
        }
        let n_aliases = c.u32()? as usize;
        let mut aliases = Vec::new();
        for _ in 0..n_aliases.min(100_000) {
            aliases.push((c.string()?, c.string()?));
        }
        Ok(Ct2Model { spec, revision, variables, aliases })
    }

    pub fn get(&self, name: &str) -> Result<&Variable, String> {
        self.variables.get(name).ok_or_else(|| format!("the model has no variable {name}"))
    }

    /// Number of `prefix/layer_N/` blocks. Counting names that start with `prefix/layer_` would
    /// also count `prefix/layer_norm`, so only a numeric suffix counts.
    pub fn layer_count(&self, prefix: &str) -> usize {
        let start = format!("{prefix}/layer_");
        let mut max: Option<usize> = None;
        for name in self.variables.keys() {
            if let Some(rest) = name.strip_prefix(&start) {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                if !digits.is_empty() && rest[digits.len()..].starts_with('/') {
                    let n: usize = digits.parse().unwrap_or(0);
                    max = Some(max.map_or(n, |m| m.max(n)));
                }
            }
        }
        max.map_or(0, |m| m + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    fn tiny_model() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        for name in ["encoder/layer_0/x", "encoder/layer_1/x", "encoder/layer_norm/gamma"] {
            string(&mut b, name);
            b.push(1);
            b.extend_from_slice(&2u32.to_le_bytes());
            b.push(4);
            b.extend_from_slice(&4u32.to_le_bytes());
            b.extend_from_slice(&[0, 0x3c, 0, 0x40]);
        }
        b.extend_from_slice(&0u32.to_le_bytes());
        b
    }

    #[test]
    fn parses_and_counts_layers_without_layer_norm() {
        let m = Ct2Model::parse(&tiny_model()).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.variables.len(), 3);
        assert_eq!(m.layer_count("encoder"), 2);
        assert_eq!(m.get("encoder/layer_1/x").unwrap().dims, vec![2]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let full = tiny_model();
        for cut in 0..full.len() {
            assert!(Ct2Model::parse(&full[..cut]).is_err(), "cut at {cut} parsed");
        }
    }

    #[test]
    fn size_mismatch_is_reported() {
        let mut b = tiny_model();
        // First variable's nbytes field: after header (4+2+12+4+4) + name (2+18) + rank (1) + dim (4) + dtype (1).
        let pos = 4 + 2 + 12 + 4 + 4 + 2 + 18 + 1 + 4 + 1;
        b[pos] = 6;
        let err = Ct2Model::parse(&b).unwrap_err();
        assert!(err.contains("do not match shape"), "{err}");
    }
}
