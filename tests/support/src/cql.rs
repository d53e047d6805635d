//! Just enough of the CQL native protocol (v4 framing) for the proxy to recognise write
//! requests and answer them with genuine ERROR frames.

/// Byte length of a v3/v4 frame header.
pub(crate) const HEADER_LEN: usize = 9;
const OP_ERROR: u8 = 0x00;
const OP_QUERY: u8 = 0x07;
const OP_PREPARE: u8 = 0x09;
const OP_RESULT: u8 = 0x08;
const OP_EXECUTE: u8 = 0x0A;
const OP_BATCH: u8 = 0x0D;
const FLAG_COMPRESSED: u8 = 0x01;
const RESULT_PREPARED: i32 = 0x0004;
const CONSISTENCY_ONE: u16 = 0x0001;

/// Server errors the proxy can answer writes with (codes from the protocol spec, section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CqlError {
    /// `Unavailable` (0x1000): not enough live replicas for the consistency level.
    Unavailable,
    /// `Overloaded` (0x1001): the coordinator is overloaded.
    Overloaded,
    /// `Write_timeout` (0x1100): replicas did not acknowledge in time.
    WriteTimeout,
    /// `Read_timeout` (0x1200): replicas did not answer a read in time.
    ReadTimeout,
}

/// Which write requests the proxy answers itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CqlFault {
    /// The next `count` writes get `error`; later ones pass.
    Next {
        /// How many writes to fail.
        count: u64,
        /// The error to answer with.
        error: CqlError,
    },
    /// Each write fails with probability `fraction` (0.0..=1.0).
    Fraction {
        /// Probability of failing one write.
        fraction: f64,
        /// The error to answer with.
        error: CqlError,
    },
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub version: u8,
    pub flags: u8,
    pub stream: [u8; 2],
    pub opcode: u8,
    pub len: usize,
}

pub(crate) fn parse_header(bytes: &[u8; HEADER_LEN]) -> Header {
    Header {
        version: bytes[0],
        flags: bytes[1],
        stream: [bytes[2], bytes[3]],
        opcode: bytes[4],
        len: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) as usize,
    }
}

/// What the proxy learns from one client request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// A write (by statement text for QUERY, by prepared id for EXECUTE, any BATCH), with its
    /// consistency level when readable.
    Write { consistency: u16 },
    /// A PREPARE of this statement text (remembered to classify later EXECUTEs).
    Prepare { is_write: bool },
    /// Anything else.
    Other,
}

/// Classifies a request; `prepared_is_write` answers for an EXECUTE's prepared id (unknown ids
/// count as writes, since weir executes prepared statements to write).
pub(crate) fn classify(
    header: &Header,
    body: &[u8],
    prepared_is_write: impl Fn(&[u8]) -> Option<bool>,
) -> Request {
    if header.flags & FLAG_COMPRESSED != 0 {
        return Request::Other;
    }
    let mut r = Reader(body);
    match header.opcode {
        OP_QUERY => {
            let Some(text) = r.long_string() else {
                return Request::Other;
            };
            if !is_write_statement(text) {
                return Request::Other;
            }
            Request::Write {
                consistency: r.u16().unwrap_or(CONSISTENCY_ONE),
            }
        }
        OP_EXECUTE => {
            let Some(id) = r.short_bytes() else {
                return Request::Other;
            };
            if prepared_is_write(id) == Some(false) {
                return Request::Other;
            }
            Request::Write {
                consistency: r.u16().unwrap_or(CONSISTENCY_ONE),
            }
        }
        OP_BATCH => Request::Write {
            consistency: CONSISTENCY_ONE,
        },
        OP_PREPARE => match r.long_string() {
            Some(text) => Request::Prepare {
                is_write: is_write_statement(text),
            },
            None => Request::Other,
        },
        _ => Request::Other,
    }
}

fn is_write_statement(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    let first = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(first.as_str(), "INSERT" | "UPDATE" | "DELETE" | "BEGIN")
}

/// The prepared id in a RESULT/Prepared response body, if it is one.
pub(crate) fn prepared_id(header: &Header, body: &[u8]) -> Option<Vec<u8>> {
    if header.opcode != OP_RESULT || header.flags & FLAG_COMPRESSED != 0 {
        return None;
    }
    let mut r = Reader(body);
    if r.i32()? != RESULT_PREPARED {
        return None;
    }
    r.short_bytes().map(<[u8]>::to_vec)
}

/// A complete ERROR response to the request with `stream`, as Cassandra would send it.
pub(crate) fn error_frame(request: &Header, error: CqlError, consistency: u16) -> Vec<u8> {
    let mut body = Vec::new();
    let (code, message): (i32, &str) = match error {
        CqlError::Unavailable => (
            0x1000,
            "Cannot achieve consistency level (injected by weir test proxy)",
        ),
        CqlError::Overloaded => (0x1001, "Server is overloaded (injected by weir test proxy)"),
        CqlError::WriteTimeout => (0x1100, "Operation timed out (injected by weir test proxy)"),
        CqlError::ReadTimeout => (0x1200, "Operation timed out (injected by weir test proxy)"),
    };
    body.extend_from_slice(&code.to_be_bytes());
    body.extend_from_slice(&(message.len() as u16).to_be_bytes());
    body.extend_from_slice(message.as_bytes());
    match error {
        CqlError::Unavailable => {
            body.extend_from_slice(&consistency.to_be_bytes());
            body.extend_from_slice(&1i32.to_be_bytes()); // required
            body.extend_from_slice(&0i32.to_be_bytes()); // alive
        }
        CqlError::Overloaded => {}
        CqlError::WriteTimeout => {
            body.extend_from_slice(&consistency.to_be_bytes());
            body.extend_from_slice(&0i32.to_be_bytes()); // received
            body.extend_from_slice(&1i32.to_be_bytes()); // block_for
            let write_type = b"SIMPLE";
            body.extend_from_slice(&(write_type.len() as u16).to_be_bytes());
            body.extend_from_slice(write_type);
        }
        CqlError::ReadTimeout => {
            body.extend_from_slice(&consistency.to_be_bytes());
            body.extend_from_slice(&0i32.to_be_bytes()); // received
            body.extend_from_slice(&1i32.to_be_bytes()); // block_for
            body.push(0); // data_present
        }
    }
    let mut frame = vec![
        0x80 | (request.version & 0x7f),
        0,
        request.stream[0],
        request.stream[1],
        OP_ERROR,
    ];
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn long_string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.i32()?).ok()?;
        self.take(len)
    }
    fn short_bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(opcode: u8, len: usize) -> Header {
        Header {
            version: 4,
            flags: 0,
            stream: [0, 9],
            opcode,
            len,
        }
    }

    fn query_body(text: &str) -> Vec<u8> {
        let mut b = (text.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(text.as_bytes());
        b.extend_from_slice(&0x0004u16.to_be_bytes());
        b.push(0);
        b
    }

    #[test]
    fn insert_query_is_a_write_and_select_is_not() {
        let insert = query_body("  insert INTO ks.t (a) VALUES (1)");
        assert_eq!(
            classify(&header(OP_QUERY, insert.len()), &insert, |_| None),
            Request::Write { consistency: 4 }
        );
        let select = query_body("SELECT * FROM system.local");
        assert_eq!(
            classify(&header(OP_QUERY, select.len()), &select, |_| None),
            Request::Other
        );
    }

    #[test]
    fn overloaded_error_frame_is_a_v4_response_on_the_request_stream() {
        let frame = error_frame(&header(OP_QUERY, 0), CqlError::Overloaded, 1);
        assert_eq!(&frame[..5], &[0x84, 0, 0, 9, OP_ERROR]);
        assert_eq!(&frame[9..13], &0x1001i32.to_be_bytes());
    }
}
