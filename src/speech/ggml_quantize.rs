//! Rewrites a whisper.cpp ggml model with its matrices in 8-bit blocks (ggml's `q8_0`).
//!
//! Why: on a 2-core box Whisper's matrix products are most of a turn's wait, and 8-bit blocks
//! halve the bytes each product streams through the cache. whisper.cpp ships its own quantizer,
//! but the box builds its models with the product alone (no C++ tool chain on an appliance),
//! so this is ours, like the CTranslate2 import.
//!
//! What is quantized is what whisper.cpp itself allocates with the model's weight type: every
//! 2-D f16 tensor (the attention and MLP matrices and the token embedding). The conv kernels
//! (3-D, f16 whatever the weight type) and the f32 biases, norms and positional embeddings are
//! copied unchanged; whisper.cpp checks each tensor's byte size against the type it expects,
//! so a wrong choice here fails the load instead of running with garbage.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::whisper_import::{f16_to_f32, f32_to_f16};

const GGML_MAGIC: u32 = 0x6767_6d6c;
const GGML_TYPE_F32: i32 = 0;
const GGML_TYPE_F16: i32 = 1;
/// Values per q8_0 block: one f16 scale, then 32 signed bytes.
pub const Q8_BLOCK: usize = 32;
const Q8_BLOCK_BYTES: usize = 2 + Q8_BLOCK;
/// The quantization format version whisper.cpp's own quantizer writes, times 1000, on top of
/// the file type.
const QNT_VERSION: i32 = 2 * 1000;

/// The block formats a model can be rewritten in. q8_0 is what the box runs (BENCHMARKS.md,
/// "Speech to text"); q5_0 and q4_0 are smaller and were measured against it for issue 13.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[value(name = "q8_0")]
    Q8_0,
    #[value(name = "q5_0")]
    Q5_0,
    #[value(name = "q4_0")]
    Q4_0,
}

impl Format {
    /// ggml's tensor type number.
    fn tensor_type(self) -> i32 {
        match self {
            Format::Q4_0 => 2,
            Format::Q5_0 => 6,
            Format::Q8_0 => 8,
        }
    }

    /// ggml's `GGML_FTYPE_MOSTLY_*` for the file header.
    fn file_type(self) -> i32 {
        QNT_VERSION
            + match self {
                Format::Q4_0 => 2,
                Format::Q8_0 => 7,
                Format::Q5_0 => 8,
            }
    }

    fn blocks(self, values: &[f32]) -> Vec<u8> {
        match self {
            Format::Q8_0 => q8_0_blocks(values),
            Format::Q5_0 => q5_0_blocks(values),
            Format::Q4_0 => q4_0_blocks(values),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
}

/// What was rewritten, for the user and the tests.
#[derive(Debug, PartialEq)]
pub struct QuantizeSummary {
    pub quantized: usize,
    pub copied: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// Reads the f16 model `input` and writes its q8_0 form to `output` (through a temporary name,
/// so an interrupted run never leaves a model that looks complete).
pub fn quantize_q8_0(input: &Path, output: &Path) -> Result<QuantizeSummary, QuantizeError> {
    quantize(input, output, Format::Q8_0)
}

/// Reads the f16 model `input` and writes it to `output` with its matrices in `format`.
pub fn quantize(input: &Path, output: &Path, format: Format) -> Result<QuantizeSummary, QuantizeError> {
    let in_err = |source| QuantizeError::Io { path: input.display().to_string(), source };
    let format_err = |reason: String| QuantizeError::Format { path: input.display().to_string(), reason };
    let tmp = output.with_extension("partial");
    let out_err = |source| QuantizeError::Io { path: tmp.display().to_string(), source };
    let mut r = BufReader::new(std::fs::File::open(input).map_err(in_err)?);
    let mut w = BufWriter::new(std::fs::File::create(&tmp).map_err(out_err)?);
    let result = rewrite(&mut r, &mut w, format);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(&tmp);
            return Err(match e {
                Failure::Read(source) => in_err(source),
                Failure::Write(source) => out_err(source),
                Failure::Format(reason) => format_err(reason),
            });
        }
    };
    w.flush().map_err(out_err)?;
    w.into_inner().map_err(|e| out_err(e.into_error()))?.sync_all().map_err(out_err)?;
    std::fs::rename(&tmp, output).map_err(|source| QuantizeError::Io { path: output.display().to_string(), source })?;
    Ok(summary)
}

enum Failure {
    Read(std::io::Error),
    Write(std::io::Error),
    Format(String),
}

fn read_i32(r: &mut impl Read) -> Result<i32, Failure> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(Failure::Read)?;
    Ok(i32::from_le_bytes(b))
}

fn read_bytes(r: &mut impl Read, n: usize) -> Result<Vec<u8>, Failure> {
    let mut v = vec![0u8; n];
    r.read_exact(&mut v).map_err(Failure::Read)?;
    Ok(v)
}

fn put(w: &mut impl Write, bytes: &[u8]) -> Result<(), Failure> {
    w.write_all(bytes).map_err(Failure::Write)
}

fn count(n: i32, what: &str) -> Result<usize, Failure> {
    usize::try_from(n).ok().filter(|&n| n < 1 << 28).ok_or_else(|| Failure::Format(format!("implausible {what}: {n}")))
}

fn rewrite(r: &mut impl Read, w: &mut impl Write, format: Format) -> Result<QuantizeSummary, Failure> {
    let magic = read_i32(r)? as u32;
    if magic != GGML_MAGIC {
        return Err(Failure::Format(format!("not a ggml model (magic {magic:#010x})")));
    }
    let mut hparams = [0i32; 11];
    for h in hparams.iter_mut() {
        *h = read_i32(r)?;
    }
    if hparams[10] % 1000 != 1 {
        return Err(Failure::Format(format!("model type {} is not f16 (already quantized?)", hparams[10])));
    }
    put(w, &GGML_MAGIC.to_le_bytes())?;
    for h in &hparams[..10] {
        put(w, &h.to_le_bytes())?;
    }
    put(w, &format.file_type().to_le_bytes())?;
    let mut bytes_in = 48u64;

    // Mel filters and vocabulary: copied as they are.
    let n_mel = read_i32(r)?;
    let n_fft = read_i32(r)?;
    let filters = read_bytes(r, count(n_mel, "mel count")? * count(n_fft, "fft size")? * 4)?;
    put(w, &n_mel.to_le_bytes())?;
    put(w, &n_fft.to_le_bytes())?;
    put(w, &filters)?;
    bytes_in += 8 + filters.len() as u64;
    let n_vocab = read_i32(r)?;
    put(w, &n_vocab.to_le_bytes())?;
    bytes_in += 4;
    for _ in 0..count(n_vocab, "vocabulary size")? {
        let len = read_i32(r)?;
        let token = read_bytes(r, count(len, "token length")?)?;
        put(w, &len.to_le_bytes())?;
        put(w, &token)?;
        bytes_in += 4 + token.len() as u64;
    }
    let mut bytes_out = bytes_in;

    let (mut quantized, mut copied) = (0, 0);
    loop {
        let mut first = [0u8; 4];
        match r.read(&mut first).map_err(Failure::Read)? {
            0 => break,
            n if n < 4 => r.read_exact(&mut first[n..]).map_err(Failure::Read)?,
            _ => {}
        }
        let n_dims = i32::from_le_bytes(first);
        let name_len = read_i32(r)?;
        let ttype = read_i32(r)?;
        if !(1..=4).contains(&n_dims) {
            return Err(Failure::Format(format!("a tensor with {n_dims} dimensions")));
        }
        let mut dims = Vec::new();
        for _ in 0..n_dims {
            dims.push(count(read_i32(r)?, "tensor dimension")?);
        }
        let name = read_bytes(r, count(name_len, "tensor name length")?)?;
        let elements: usize = dims.iter().product();
        let element_bytes = match ttype {
            GGML_TYPE_F32 => 4,
            GGML_TYPE_F16 => 2,
            other => return Err(Failure::Format(format!("tensor {} has type {other}", String::from_utf8_lossy(&name)))),
        };
        let data = read_bytes(r, elements * element_bytes)?;
        bytes_in += 12 + 4 * dims.len() as u64 + name.len() as u64 + data.len() as u64;

        let quantize = ttype == GGML_TYPE_F16 && n_dims == 2 && dims[0] % Q8_BLOCK == 0;
        let (out_type, out_data) = if quantize {
            let values: Vec<f32> = data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect();
            quantized += 1;
            (format.tensor_type(), format.blocks(&values))
        } else {
            copied += 1;
            (ttype, data)
        };
        put(w, &n_dims.to_le_bytes())?;
        put(w, &name_len.to_le_bytes())?;
        put(w, &out_type.to_le_bytes())?;
        for &d in &dims {
            put(w, &(d as i32).to_le_bytes())?;
        }
        put(w, &name)?;
        put(w, &out_data)?;
        bytes_out += 12 + 4 * dims.len() as u64 + name.len() as u64 + out_data.len() as u64;
    }
    if quantized == 0 {
        return Err(Failure::Format("no f16 matrix to quantize".into()));
    }
    Ok(QuantizeSummary { quantized, copied, bytes_in, bytes_out })
}

/// ggml's reference q8_0: per block of 32, the scale is the largest magnitude over 127 and each
/// value is rounded to the nearest multiple of it.
pub fn q8_0_blocks(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / Q8_BLOCK * Q8_BLOCK_BYTES);
    for block in values.chunks(Q8_BLOCK) {
        let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = amax / 127.0;
        let inv = if d == 0.0 { 0.0 } else { 1.0 / d };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        for &x in block {
            out.push((x * inv).round() as i8 as u8);
        }
    }
    out
}

/// The value of largest magnitude in a block, with its sign: q4_0 and q5_0 map it to the most
/// negative code, so that it is exact.
fn signed_max(block: &[f32]) -> f32 {
    block.iter().fold(0f32, |m, &x| if x.abs() > m.abs() { x } else { m })
}

/// A q4_0 or q5_0 block's scale (the signed largest value over `-half`, half the codes) and its
/// inverse (0 for a block of zeros).
fn low_bit_scale(block: &[f32], half: f32) -> (f32, f32) {
    let d = signed_max(block) / -half;
    (d, if d == 0.0 { 0.0 } else { 1.0 / d })
}

/// ggml's reference q4_0: per block of 32, a scale of the signed largest value over -8, then
/// 16 bytes whose low nibbles hold values 0-15 and high nibbles values 16-31, offset by 8.
pub fn q4_0_blocks(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / Q8_BLOCK * 18);
    for block in values.chunks(Q8_BLOCK) {
        let (d, inv) = low_bit_scale(block, 8.0);
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        let code = |x: f32| ((x * inv + 8.5) as i8).clamp(0, 15) as u8;
        for j in 0..Q8_BLOCK / 2 {
            out.push(code(block[j]) | code(block[j + Q8_BLOCK / 2]) << 4);
        }
    }
    out
}

/// ggml's reference q5_0: as q4_0 with 5-bit codes offset by 16; the fifth bits of the 32
/// values sit in a little-endian word between the scale and the nibbles.
pub fn q5_0_blocks(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / Q8_BLOCK * 22);
    for block in values.chunks(Q8_BLOCK) {
        let (d, inv) = low_bit_scale(block, 16.0);
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        let code = |x: f32| ((x * inv + 16.5) as i8).clamp(0, 31) as u32;
        let mut high = 0u32;
        let mut nibbles = [0u8; Q8_BLOCK / 2];
        for j in 0..Q8_BLOCK / 2 {
            let (a, b) = (code(block[j]), code(block[j + Q8_BLOCK / 2]));
            nibbles[j] = (a & 0x0f) as u8 | ((b & 0x0f) as u8) << 4;
            high |= (a >> 4) << j | (b >> 4) << (j + Q8_BLOCK / 2);
        }
        out.extend_from_slice(&high.to_le_bytes());
        out.extend_from_slice(&nibbles);
    }
    out
}

/// The values a q8_0 block stream stands for (tests, and the importer's own check).
pub fn q8_0_values(blocks: &[u8]) -> Vec<f32> {
    blocks
        .chunks_exact(Q8_BLOCK_BYTES)
        .flat_map(|b| {
            let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
            b[2..].iter().map(move |&q| q as i8 as f32 * d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_within_half_a_step() {
        let values: Vec<f32> = (0..96).map(|i| ((i * 37 % 101) as f32 - 50.0) / 37.0).collect();
        let blocks = q8_0_blocks(&values);
        assert_eq!(blocks.len(), 3 * Q8_BLOCK_BYTES);
        let back = q8_0_values(&blocks);
        for (block, back) in values.chunks(Q8_BLOCK).zip(back.chunks(Q8_BLOCK)) {
            let step = block.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
            for (a, b) in block.iter().zip(back) {
                // Half a step, plus the f16 rounding of the scale.
                assert!((a - b).abs() <= step * 0.5 + a.abs() * 1e-3, "{a} came back as {b} (step {step})");
            }
        }
    }

    /// The values q4_0 (`bits` 4) or q5_0 (`bits` 5) blocks stand for, as ggml dequantizes them.
    fn low_bit_values(blocks: &[u8], bits: u32) -> Vec<f32> {
        let size = if bits == 4 { 18 } else { 22 };
        let offset = (1i32 << (bits - 1)) as f32;
        blocks
            .chunks_exact(size)
            .flat_map(|b| {
                let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
                let (high, nibbles) = if bits == 4 { (0, &b[2..]) } else { (u32::from_le_bytes([b[2], b[3], b[4], b[5]]), &b[6..]) };
                (0..Q8_BLOCK).map(move |j| {
                    let nibble = if j < 16 { nibbles[j] & 0x0f } else { nibbles[j - 16] >> 4 };
                    let code = nibble as u32 | ((high >> j) & 1) << 4;
                    (code as f32 - offset) * d
                })
            })
            .collect()
    }

    #[test]
    fn low_bit_blocks_round_trip_within_half_a_step() {
        let values: Vec<f32> = (0..96).map(|i| ((i * 37 % 101) as f32 - 50.0) / 37.0).collect();
        for (bits, blocks) in [(4, q4_0_blocks(&values)), (5, q5_0_blocks(&values))] {
            assert_eq!(blocks.len(), 3 * if bits == 4 { 18 } else { 22 });
            let back = low_bit_values(&blocks, bits);
            for (block, back) in values.chunks(Q8_BLOCK).zip(back.chunks(Q8_BLOCK)) {
                let step = signed_max(block).abs() / (1 << (bits - 1)) as f32;
                // The codes run from -2^(bits-1) to 2^(bits-1)-1 steps, so (as in ggml) a value
                // above the top code, of the other sign than the block's largest, is clamped to it.
                let top = step * ((1 << (bits - 1)) - 1) as f32;
                for (a, b) in block.iter().zip(back) {
                    let expected =
                        if a.abs() > top + step * 0.5 && a.signum() != signed_max(block).signum() { top * a.signum() } else { *a };
                    assert!((expected - b).abs() <= step * 0.5 + a.abs() * 2e-3, "q{bits}_0: {a} came back as {b} (step {step})");
                }
            }
            // The value of largest magnitude maps to the lowest code, exactly.
            let i = values[..Q8_BLOCK].iter().position(|&x| x == signed_max(&values[..Q8_BLOCK])).unwrap();
            assert!((back[i] - values[i]).abs() < 3e-3, "q{bits}_0: {} came back as {}", values[i], back[i]);
        }
    }

    #[test]
    fn a_zero_block_stays_zero() {
        let back = q8_0_values(&q8_0_blocks(&[0.0; Q8_BLOCK]));
        assert!(back.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn the_largest_value_of_a_block_is_exact_to_the_scale() {
        let mut v = [0.25f32; Q8_BLOCK];
        v[7] = -3.0;
        let blocks = q8_0_blocks(&v);
        assert_eq!(blocks[2 + 7] as i8, -127);
        assert!((q8_0_values(&blocks)[7] + 3.0).abs() < 3e-3);
    }

    #[test]
    fn a_file_that_is_not_ggml_is_refused() {
        let dir = std::env::temp_dir().join(format!("frontdesk-q8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("not-a-model.bin");
        std::fs::write(&input, b"GGUF and then some more bytes than a header").unwrap();
        let err = quantize_q8_0(&input, &dir.join("out.bin")).unwrap_err();
        assert!(err.to_string().contains("not a ggml model"), "{err}");
        assert!(!dir.join("out.bin").exists() && !dir.join("out.partial").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
