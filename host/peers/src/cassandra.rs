//! A single Cassandra node (its own seed) configured for fast tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::process::{Launch, Setup};
use crate::{Credentials, Error, Kind};

/// Main class, also used to recognise the JVM by its command line.
pub(crate) const MAIN: &str = "org.apache.cassandra.service.CassandraDaemon";

/// Writes `cassandra.yaml` from the template and returns how to launch the node.
pub(crate) fn prepare(
    setup: &Setup<'_>,
    native_port: u16,
    storage_port: u16,
) -> Result<Launch, Error> {
    let Setup {
        java,
        classpath,
        maven_dir,
        dir,
        ready_timeout,
        detached,
        auth,
        cassandra_tls,
        commitlog_sync,
    } = *setup;
    let templates = maven_dir.join("cassandra");
    let template_path = templates.join("cassandra.yaml");
    let template = std::fs::read_to_string(&template_path)
        .map_err(Error::io("cannot read the template", &template_path))?;
    let mut yaml = template
        .replace("@STORAGE_PORT@", &storage_port.to_string())
        .replace("@NATIVE_PORT@", &native_port.to_string())
        .replace("@NODE_DIR@", &dir.display().to_string())
        .replace("@COMMITLOG_SYNC@", commitlog_sync.yaml());
    if auth.is_some() {
        // Roles live in system_auth; authorization stays AllowAll (any login may do anything).
        yaml.push_str(
            "authenticator:\n  class_name: org.apache.cassandra.auth.PasswordAuthenticator\n",
        );
    }
    let tls = if cassandra_tls {
        let tls = crate::tls::generate(&dir.join("tls"))?;
        // Clients must speak TLS (`optional: false`); no client certificate is asked for.
        yaml.push_str(&format!(
            "client_encryption_options:\n  enabled: true\n  optional: false\n  keystore: {}\n  keystore_password: {}\n  store_type: PKCS12\n  require_client_auth: false\n",
            tls.keystore.display(),
            crate::tls::KEYSTORE_PASSWORD,
        ));
        Some(tls.ca_file)
    } else {
        None
    };
    let yaml_path = dir.join("cassandra.yaml");
    std::fs::write(&yaml_path, yaml).map_err(Error::io("cannot write", &yaml_path))?;
    let options_path = templates.join("jvm17.options");
    let options = std::fs::read_to_string(&options_path)
        .map_err(Error::io("cannot read the JVM options", &options_path))?;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(Error::io("cannot create", &logs))?;
    let jna = dir.join("jna");
    std::fs::create_dir_all(&jna).map_err(Error::io("cannot create", &jna))?;

    let mut args: Vec<String> = vec!["-Xms256m".into(), "-Xmx1g".into()];
    args.extend(
        options
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from),
    );
    if auth.is_some() {
        // The default superuser is otherwise created only 10 s after start.
        args.push("-Dcassandra.superuser_setup_delay_ms=0".into());
    }
    args.push(format!("-Dcassandra.config=file://{}", yaml_path.display()));
    args.push(format!(
        "-Dlogback.configurationFile={}",
        templates.join("logback.xml").display()
    ));
    args.push(format!("-Dcassandra.logdir={}", logs.display()));
    args.push(format!("-Dcassandra.storagedir={}", dir.display()));
    args.push(format!("-Djna.tmpdir={}", jna.display()));
    args.extend(["-cp".into(), classpath.into(), MAIN.into()]);
    Ok(Launch {
        kind: Kind::Cassandra,
        java: java.to_path_buf(),
        args,
        dir: dir.to_path_buf(),
        log: logs.join("system.log"),
        console: dir.join("console.log"),
        addr: SocketAddr::from(([127, 0, 0, 1], native_port)),
        ready_timeout,
        detached,
        auth: auth.cloned(),
        tls_ca: tls,
    })
}

const OPTIONS: u8 = 0x05;
const SUPPORTED: u8 = 0x06;
const STARTUP: u8 = 0x01;
const READY: u8 = 0x02;
const AUTHENTICATE: u8 = 0x03;
const AUTH_RESPONSE: u8 = 0x0F;
const AUTH_SUCCESS: u8 = 0x10;
const QUERY: u8 = 0x07;
const RESULT: u8 = 0x08;

/// The superuser `PasswordAuthenticator` creates on a fresh node.
const DEFAULT_SUPERUSER: (&str, &str) = ("cassandra", "cassandra");

/// One exchange: OPTIONS→SUPPORTED, STARTUP→READY (with `auth`: STARTUP→AUTHENTICATE and
/// a login as that user) and `SELECT release_version FROM system.local` returning rows, all in
/// CQL protocol v4; over TLS trusting the CA in `tls` when given.
pub(crate) fn probe(
    addr: SocketAddr,
    auth: Option<&Credentials>,
    tls: Option<&Path>,
) -> Result<(), String> {
    let login = auth.map(|a| (a.user.as_str(), a.password.as_str()));
    exchange(addr, login, tls).map_err(|e| format!("CQL exchange: {e}"))
}

/// Ready = [`probe`] succeeds. With `auth` on a fresh node, where only the default superuser
/// exists, the login is refused: then log in as `cassandra` and create the user first.
pub(crate) fn ready(
    addr: SocketAddr,
    auth: Option<&Credentials>,
    tls: Option<&Path>,
) -> Result<(), String> {
    let Some(auth) = auth else {
        return probe(addr, None, tls);
    };
    match exchange(addr, Some((&auth.user, &auth.password)), tls) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            create_role(addr, auth, tls)
                .map_err(|e| format!("creating role `{}`: {e}", auth.user))?;
            probe(addr, Some(auth), tls)
        }
        other => other.map_err(|e| format!("CQL exchange: {e}")),
    }
}

/// Logs in as the default superuser and creates `auth` as a login role (or, for the user
/// `cassandra` itself, changes its password).
fn create_role(addr: SocketAddr, auth: &Credentials, tls: Option<&Path>) -> std::io::Result<()> {
    let mut s = connect(addr, Some(DEFAULT_SUPERUSER), tls)?;
    let quote = |v: &str| v.replace('\'', "''");
    let cql = if auth.user == DEFAULT_SUPERUSER.0 {
        format!(
            "ALTER ROLE cassandra WITH PASSWORD = '{}'",
            quote(&auth.password)
        )
    } else {
        format!(
            "CREATE ROLE IF NOT EXISTS \"{}\" WITH PASSWORD = '{}' AND LOGIN = true AND SUPERUSER = true",
            auth.user.replace('"', "\"\""),
            quote(&auth.password)
        )
    };
    query(&mut s, &cql)?;
    Ok(())
}

fn exchange(
    addr: SocketAddr,
    auth: Option<(&str, &str)>,
    tls: Option<&Path>,
) -> std::io::Result<()> {
    let mut s = connect(addr, auth, tls)?;
    let body = query(&mut s, "SELECT release_version FROM system.local")?;
    // RESULT kind 2 = Rows.
    if body.get(..4) != Some(&2i32.to_be_bytes()[..]) {
        return Err(invalid("system.local query did not return rows"));
    }
    Ok(())
}

/// A connection to the CQL port: plain TCP, or TLS when the node requires it.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// OPTIONS, STARTUP, and with `auth` the PLAIN token exchange of `PasswordAuthenticator`; a
/// refused login is `PermissionDenied` (its message never carries the password). With `tls`,
/// all of it goes over TLS trusting only that CA file.
fn connect(
    addr: SocketAddr,
    auth: Option<(&str, &str)>,
    tls: Option<&Path>,
) -> std::io::Result<Box<dyn Stream>> {
    let timeout = Duration::from_secs(2);
    let tcp = TcpStream::connect_timeout(&addr, timeout)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let mut s: Box<dyn Stream> = match tls {
        Some(ca_file) => Box::new(crate::tls::connect(tcp, addr.ip(), ca_file)?),
        None => Box::new(tcp),
    };
    expect(&mut s, OPTIONS, &[], SUPPORTED)?;
    let mut startup = 1u16.to_be_bytes().to_vec();
    for part in ["CQL_VERSION", "3.0.0"] {
        startup.extend_from_slice(&(part.len() as u16).to_be_bytes());
        startup.extend_from_slice(part.as_bytes());
    }
    let Some((user, password)) = auth else {
        expect(&mut s, STARTUP, &startup, READY)?;
        return Ok(s);
    };
    expect(&mut s, STARTUP, &startup, AUTHENTICATE)?;
    let token = format!("\0{user}\0{password}");
    let mut response = (token.len() as i32).to_be_bytes().to_vec();
    response.extend_from_slice(token.as_bytes());
    expect(&mut s, AUTH_RESPONSE, &response, AUTH_SUCCESS).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("login as `{user}` refused: {e}"),
        )
    })?;
    Ok(s)
}

/// Runs one CQL query at consistency ONE and returns the RESULT body.
fn query(s: &mut dyn Stream, cql: &str) -> std::io::Result<Vec<u8>> {
    let mut body = (cql.len() as i32).to_be_bytes().to_vec();
    body.extend_from_slice(cql.as_bytes());
    body.extend_from_slice(&1u16.to_be_bytes()); // consistency ONE
    body.push(0); // no flags
    expect(s, QUERY, &body, RESULT)
}

fn expect(s: &mut dyn Stream, opcode: u8, body: &[u8], want: u8) -> std::io::Result<Vec<u8>> {
    let mut frame = vec![0x04, 0, 0, 1, opcode];
    frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
    frame.extend_from_slice(body);
    s.write_all(&frame)?;
    let mut header = [0u8; 9];
    s.read_exact(&mut header)?;
    let len = i32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    let len = usize::try_from(len).map_err(invalid)?;
    if len > 1 << 20 {
        return Err(invalid("response too large"));
    }
    let mut reply = vec![0u8; len];
    s.read_exact(&mut reply)?;
    if header[4] != want {
        return Err(invalid(format!(
            "opcode {:#04x} answered with {:#04x} (want {want:#04x})",
            opcode, header[4]
        )));
    }
    Ok(reply)
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommitlogSync;

    /// The `cassandra.yaml` `prepare` writes for `sync`, in a directory of this test's own.
    fn rendered(sync: CommitlogSync) -> String {
        let dir =
            std::env::temp_dir().join(format!("weir-peers-yaml-{}-{sync:?}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let setup = Setup {
            java: Path::new("java"),
            classpath: "",
            maven_dir: &Path::new(env!("CARGO_MANIFEST_DIR")).join("maven"),
            dir: &dir,
            ready_timeout: Duration::from_secs(1),
            detached: false,
            auth: None,
            cassandra_tls: false,
            commitlog_sync: sync,
        };
        prepare(&setup, 9042, 7000).expect("prepare writes the config");
        let yaml = std::fs::read_to_string(dir.join("cassandra.yaml")).expect("yaml");
        let _ = std::fs::remove_dir_all(&dir);
        yaml
    }

    #[test]
    fn batch_is_the_default_and_periodic_sets_cassandras_shipped_period() {
        assert_eq!(CommitlogSync::default(), CommitlogSync::Batch);
        let batch = rendered(CommitlogSync::Batch);
        assert!(batch.contains("\ncommitlog_sync: batch\n"), "{batch}");
        assert!(!batch.contains("\ncommitlog_sync_period"), "{batch}");
        let periodic = rendered(CommitlogSync::Periodic);
        assert!(
            periodic.contains("\ncommitlog_sync: periodic\ncommitlog_sync_period: 10000ms\n"),
            "{periodic}"
        );
        assert!(!periodic.contains("@COMMITLOG_SYNC@"), "{periodic}");
    }
}
