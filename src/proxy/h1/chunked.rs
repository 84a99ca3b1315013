//! The chunked transfer coding of a server's response (RFC 9112 §7.1), decoded as the bytes
//! arrive: chunk data leaves as soon as it is read, whatever the chunk's size, so memory stays
//! at one read buffer.

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use super::head::MAX_HEADERS;

/// The longest chunk-size line (with its extensions) or trailer line accepted.
const MAX_LINE: usize = 4096;

/// The most trailer bytes accepted after the last chunk.
const MAX_TRAILERS: usize = 64 * 1024;

/// Where the decoder is in the body.
#[derive(Debug, Default)]
pub enum Chunked {
    /// Expecting a chunk-size line.
    #[default]
    Size,
    /// This many bytes of chunk data still to come.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines up to a blank line.
    Trailers {
        fields: HeaderMap,
        bytes: usize,
    },
    Done,
}

/// What one step of decoding produced.
#[derive(Debug, PartialEq)]
pub enum Step {
    Data(Bytes),
    /// The body ended; its trailers, if the server sent any.
    End(Option<HeaderMap>),
    /// The buffer holds no complete piece: read more.
    NeedMore,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ChunkError {
    #[error("malformed chunk size line")]
    Size,
    #[error("chunk size larger than 64 bits")]
    SizeOverflow,
    #[error("chunk data not followed by CRLF")]
    DataEnd,
    #[error("chunk-size or trailer line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("malformed trailer line")]
    Trailer,
    #[error("trailers larger than {MAX_TRAILERS} bytes or {MAX_HEADERS} lines")]
    TrailersTooLarge,
}

impl Chunked {
    /// Decode what `buf` holds, consuming it, up to the next piece of data or the end.
    pub fn step(&mut self, buf: &mut BytesMut) -> Result<Step, ChunkError> {
        loop {
            match self {
                Chunked::Size => {
                    let Some(line) = take_line(buf)? else { return Ok(Step::NeedMore) };
                    let size = chunk_size(&line)?;
                    *self = if size == 0 {
                        Chunked::Trailers { fields: HeaderMap::new(), bytes: 0 }
                    } else {
                        Chunked::Data(size)
                    };
                }
                Chunked::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Step::NeedMore);
                    }
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    *left -= n as u64;
                    if *left == 0 {
                        *self = Chunked::DataEnd;
                    }
                    return Ok(Step::Data(buf.split_to(n).freeze()));
                }
                Chunked::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Step::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkError::DataEnd);
                    }
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Trailers { fields, bytes } => {
                    let Some(line) = take_line(buf)? else { return Ok(Step::NeedMore) };
                    if line.is_empty() {
                        let fields = std::mem::take(fields);
                        *self = Chunked::Done;
                        return Ok(Step::End((!fields.is_empty()).then_some(fields)));
                    }
                    *bytes += line.len();
                    if *bytes > MAX_TRAILERS || fields.len() >= MAX_HEADERS {
                        return Err(ChunkError::TrailersTooLarge);
                    }
                    let (name, value) = trailer(&line)?;
                    fields.append(name, value);
                }
                Chunked::Done => return Ok(Step::End(None)),
            }
        }
    }
}

/// The next line without its LF (and CR), if a whole one is buffered. Go's reader accepts a
/// bare LF at the end of these lines; so does this.
fn take_line(buf: &mut BytesMut) -> Result<Option<Bytes>, ChunkError> {
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return if buf.len() > MAX_LINE { Err(ChunkError::LineTooLong) } else { Ok(None) };
    };
    if end > MAX_LINE {
        return Err(ChunkError::LineTooLong);
    }
    let mut line = buf.split_to(end + 1).freeze();
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    Ok(Some(line))
}

/// `1a3f`, then optional whitespace and `;extensions`, which are ignored.
fn chunk_size(line: &[u8]) -> Result<u64, ChunkError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ChunkError::Size);
    }
    let rest = line[digits..].trim_ascii_start();
    if !rest.is_empty() && rest[0] != b';' {
        return Err(ChunkError::Size);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let digit = (b as char).to_digit(16).ok_or(ChunkError::Size)?;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(digit)))
            .ok_or(ChunkError::SizeOverflow)?;
    }
    Ok(size)
}

fn trailer(line: &[u8]) -> Result<(HeaderName, HeaderValue), ChunkError> {
    let colon = memchr::memchr(b':', line).ok_or(ChunkError::Trailer)?;
    let name = HeaderName::from_bytes(&line[..colon]).map_err(|_| ChunkError::Trailer)?;
    let value =
        HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).map_err(|_| ChunkError::Trailer)?;
    Ok((name, value))
}

/// Decode `input` fed in pieces of `piece` bytes: the data and the ending, for tests and the
/// fuzz target (the result must not depend on how the bytes were split).
#[doc(hidden)]
pub fn decode_in_pieces(
    input: &[u8],
    piece: usize,
) -> (Vec<u8>, Result<Option<HeaderMap>, ChunkError>) {
    let mut decoder = Chunked::default();
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    let mut fed = 0;
    loop {
        match decoder.step(&mut buf) {
            Ok(Step::Data(bytes)) => data.extend_from_slice(&bytes),
            Ok(Step::End(trailers)) => return (data, Ok(trailers)),
            Ok(Step::NeedMore) if fed < input.len() => {
                let end = (fed + piece.max(1)).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
            // The input ran out before the body's end.
            Ok(Step::NeedMore) => return (data, Err(ChunkError::Size)),
            Err(err) => return (data, Err(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_whatever_the_read_sizes() {
        let body = b"5\r\nhello\r\n1;ext=1\r\n,\r\n006 \r\n world\r\n0\r\nX-Sum: 1\r\n\r\n";
        for piece in [1, 2, 3, 7, 64] {
            let (data, end) = decode_in_pieces(body, piece);
            assert_eq!(data, b"hello, world", "piece {piece}");
            let trailers = end.expect("well formed").expect("has trailers");
            assert_eq!(trailers["x-sum"], "1");
        }
        let (data, end) = decode_in_pieces(b"3\nabc\r\n0\n\n", 2);
        assert_eq!((data.as_slice(), end), (&b"abc"[..], Ok(None)));
    }

    #[test]
    fn leaves_what_follows_the_body() {
        let mut buf = BytesMut::from(&b"2\r\nab\r\n0\r\n\r\nHTTP/1.1"[..]);
        let mut decoder = Chunked::default();
        assert_eq!(decoder.step(&mut buf), Ok(Step::Data(Bytes::from_static(b"ab"))));
        assert_eq!(decoder.step(&mut buf), Ok(Step::End(None)));
        assert_eq!(&buf[..], b"HTTP/1.1");
    }

    #[test]
    fn refuses_malformed_bodies() {
        let err = |input: &[u8]| decode_in_pieces(input, 5).1.expect_err("malformed");
        assert_eq!(err(b"x\r\n"), ChunkError::Size);
        assert_eq!(err(b"5 x\r\nhello\r\n0\r\n\r\n"), ChunkError::Size);
        assert_eq!(err(b"-5\r\nhello\r\n0\r\n\r\n"), ChunkError::Size);
        assert_eq!(err(b"10000000000000000\r\n"), ChunkError::SizeOverflow);
        assert_eq!(err(b"2\r\nabX\r\n0\r\n\r\n"), ChunkError::DataEnd);
        assert_eq!(err(b"0\r\nno colon\r\n\r\n"), ChunkError::Trailer);
        assert_eq!(err(&[b'1'; MAX_LINE + 10]), ChunkError::LineTooLong);
        assert_eq!(err(b"2\r\nab\r\n"), ChunkError::Size, "cut short");
    }
}
