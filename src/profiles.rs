//! Profiles: named workspaces in a configuration file, so a user with several workspaces (in
//! several regions) writes `--profile eu-support` instead of a token, a region and flags.
//!
//! The file is TOML, at `--config PATH`, `$INTERCOM_SQL_CONFIG`, or the platform's
//! configuration directory (`~/.config/intercom-sql/config.toml` on Linux):
//!
//! ```toml
//! default_profile = "us-support"        # used when no --profile and no token is given
//!
//! [profiles.us-support]
//! token_env = "INTERCOM_TOKEN_US"       # the token, from this environment variable…
//! region = "us"                         # us | eu | au; left out: detected and written here
//! read_only = true
//! format = "csv"                        # default output format of -c/-f
//!
//! [profiles.eu-support]
//! token_file = "~/.config/intercom-sql/eu.token"   # …or from a file only its owner can read
//!
//! [profiles.staging]
//! token_env = "STAGING_TOKEN"
//! base_url = "http://127.0.0.1:8080"    # any API root (an emulator, a proxy)
//! api_version = "2.15"
//!
//! [regions]                              # the regions' API hosts, when not Intercom's own
//! eu = "https://intercom-eu-proxy.internal"
//! ```
//!
//! A token is never written in the file: a profile names where it comes from, and a token file
//! readable by anyone but its owner is refused (as ssh refuses such a private key). A profile
//! with no region and no base URL has its region detected once (`GET /me` on each region's
//! host, see [`detect_region`]) and written back into the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{DocumentMut, Item, value};

use crate::client::{ApiRequest, IntercomClient};
use crate::config::{AccessToken, Config, Region};
use crate::error::Error;

/// The environment variable naming the configuration file.
pub const CONFIG_VARIABLE: &str = "INTERCOM_SQL_CONFIG";

/// How long region detection waits for each host.
const DETECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The default configuration file: `config.toml` in the platform's configuration directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("intercom-sql").join("config.toml"))
}

/// Where a profile's token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// An environment variable.
    Env(String),
    /// A file (its first line), readable by its owner only.
    File(PathBuf),
    /// The OS keyring (macOS Keychain, Windows Credential Manager, Linux kernel keyring):
    /// the entry of service [`KEYRING_SERVICE`] and this name (`intercom-sql store-token`).
    Keyring(String),
}

/// The keyring service tokens are stored under.
pub const KEYRING_SERVICE: &str = "intercom-sql";

/// On Linux, `keyring` keeps tokens in the kernel's per-user persistent keyring, reached
/// through the process's session keyring; a process started outside a login session has none,
/// so one is made for it (its children share it).
fn open_keyring(name: &str) -> keyring::Result<keyring::Entry> {
    #[cfg(target_os = "linux")]
    {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        let _ = KeyRing::from_special_id(KeyRingIdentifier::Session, true);
    }
    keyring::Entry::new(KEYRING_SERVICE, name)
}

/// Stores `token` in the OS keyring as `name` (`token_keyring = "name"` reads it).
pub fn store_in_keyring(name: &str, token: &str) -> Result<(), Error> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::Config(
            "no token given (pipe it in on standard input)".into(),
        ));
    }
    open_keyring(name)
        .and_then(|entry| entry.set_password(token))
        .map_err(|e| {
            Error::Config(format!(
                "cannot store the token '{name}' in the OS keyring: {e}"
            ))
        })
}

fn from_keyring(profile: &str, name: &str) -> Result<String, Error> {
    let entry = open_keyring(name).map_err(|e| {
        Error::Config(format!(
            "profile '{profile}': cannot open the OS keyring: {e}"
        ))
    })?;
    entry.get_password().map_err(|e| match e {
        keyring::Error::NoEntry => Error::Config(format!(
            "profile '{profile}': no token '{name}' in the OS keyring: store one with `intercom-sql store-token {name}` (the token on standard input)"
        )),
        other => Error::Config(format!(
            "profile '{profile}': cannot read the token '{name}' from the OS keyring: {other}"
        )),
    })
}

/// One named workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub token: TokenSource,
    /// The data-hosting region; `None` with no `base_url`: detected on first use.
    pub region: Option<Region>,
    /// An API root of its own (an emulator, a proxy), instead of the region's host.
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    /// Refuse every write and procedure.
    pub read_only: bool,
    /// Default output format of the shell and `-c`/`-f` (`table`, `csv`, `json`, `expanded`).
    pub format: Option<String>,
}

/// The configuration file, read.
#[derive(Debug)]
pub struct Profiles {
    path: PathBuf,
    document: DocumentMut,
    profiles: BTreeMap<String, Profile>,
    hosts: BTreeMap<Region, String>,
    default_profile: Option<String>,
}

/// A profile made ready to connect.
#[derive(Debug)]
pub struct Resolved {
    pub profile: Profile,
    /// The client configuration: token, API root, version, read-only.
    pub config: Config,
    /// The region, when known (given, or detected now).
    pub region: Option<Region>,
    /// The region was detected now (and written into the file when it could be).
    pub detected: Option<Detected>,
}

/// What region detection found.
#[derive(Debug, Clone)]
pub struct Detected {
    pub region: Region,
    /// The region as `GET /me` names it (`Europe`).
    pub name: String,
    /// Written into the configuration file (else: why not).
    pub saved: Result<(), String>,
}

impl Profiles {
    /// Reads the file at `path`. A missing file is an error naming it; so is a profile
    /// without a token source, with a token written in it, or with an unknown region.
    pub fn load(path: &Path) -> Result<Self, Error> {
        check_not_writable_by_others(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("cannot read the configuration file {}", path.display()),
            source,
        })?;
        let at = |what: String| Error::Config(format!("{}: {what}", path.display()));
        let document: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| at(format!("not valid TOML: {}", e.message())))?;
        let mut hosts = intercom_hosts();
        if let Some(regions) = document.get("regions") {
            let table = regions
                .as_table_like()
                .ok_or_else(|| at("[regions] must be a table".into()))?;
            for (key, item) in table.iter() {
                let region = parse_region(key).ok_or_else(|| {
                    at(format!("[regions]: unknown region '{key}' (us, eu or au)"))
                })?;
                let host = item
                    .as_str()
                    .ok_or_else(|| at(format!("[regions] {key} must be a URL string")))?;
                hosts.insert(region, host.trim_end_matches('/').to_string());
            }
        }
        let mut profiles = BTreeMap::new();
        if let Some(item) = document.get("profiles") {
            let table = item
                .as_table_like()
                .ok_or_else(|| at("[profiles] must be a table".into()))?;
            for (name, item) in table.iter() {
                let profile = read_profile(name, item).map_err(&at)?;
                profiles.insert(name.to_string(), profile);
            }
        }
        let default_profile = match document.get("default_profile") {
            None => None,
            Some(item) => {
                let name = item
                    .as_str()
                    .ok_or_else(|| at("default_profile must be a profile's name".into()))?;
                if !profiles.contains_key(name) {
                    return Err(at(format!(
                        "default_profile '{name}' is not a profile of the file"
                    )));
                }
                Some(name.to_string())
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            document,
            profiles,
            hosts,
            default_profile,
        })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The profiles, by name.
    pub fn all(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile used when none is named.
    pub fn default_profile(&self) -> Option<&str> {
        self.default_profile.as_deref()
    }

    /// The API host of `region` (Intercom's, or the file's `[regions]`).
    pub fn host(&self, region: Region) -> &str {
        self.hosts
            .get(&region)
            .map_or(region.base_url(), String::as_str)
    }

    /// The profile called `name`; an unknown name is an error with the nearest one.
    pub fn get(&self, name: &str) -> Result<&Profile, Error> {
        self.profiles.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            let hint =
                match crate::suggest::nearest(name, names.iter().copied(), |n| n.to_string(), 3) {
                    Some(near) => format!("did you mean '{near}'?"),
                    None if names.is_empty() => "it defines none".to_string(),
                    None => format!("its profiles are {}", names.join(", ")),
                };
            Error::Config(format!(
                "no profile '{name}' in {}: {hint}",
                self.path.display()
            ))
        })
    }

    /// Makes profile `name` ready: reads its token, and finds its API root (detecting the
    /// region, and writing it into the file, when the profile has neither).
    pub async fn resolve(&mut self, name: &str) -> Result<Resolved, Error> {
        let profile = self.get(name)?.clone();
        let token = read_token(&profile)?;
        let api_version = profile
            .api_version
            .clone()
            .unwrap_or_else(|| crate::config::DEFAULT_API_VERSION.to_string());
        let (base_url, region, detected) = match (&profile.base_url, profile.region) {
            (Some(url), region) => (url.clone(), region, None),
            (None, Some(region)) => (self.host(region).to_string(), Some(region), None),
            (None, None) => {
                let (region, region_name) = detect_region(&token, &self.hosts, &api_version)
                    .await
                    .map_err(|e| Error::Config(format!("profile '{name}': {e}")))?;
                let saved = self.save_region(name, region);
                let detected = Detected {
                    region,
                    name: region_name,
                    saved,
                };
                (self.host(region).to_string(), Some(region), Some(detected))
            }
        };
        let mut config = Config::new(base_url, token);
        config.api_version = api_version;
        config.read_only = profile.read_only;
        Ok(Resolved {
            profile,
            config,
            region,
            detected,
        })
    }

    /// Writes `region = "…"` into profile `name` of the file (its comments and layout kept).
    fn save_region(&mut self, name: &str, region: Region) -> Result<(), String> {
        let profile = self
            .document
            .get_mut("profiles")
            .and_then(|p| p.get_mut(name))
            .and_then(Item::as_table_like_mut)
            .ok_or("the profile is no longer in the file")?;
        profile.insert("region", value(region_key(region)));
        let text = self.document.to_string();
        // Written beside the file itself, and renamed over it: a symlinked file (dotfiles
        // kept in a repository) stays a symlink, its target updated.
        let file = std::fs::canonicalize(&self.path).map_err(|e| e.to_string())?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
        std::io::Write::write_all(&mut temp, text.as_bytes()).map_err(|e| e.to_string())?;
        temp.as_file().sync_all().map_err(|e| e.to_string())?;
        if let Ok(meta) = std::fs::metadata(&file) {
            let _ = std::fs::set_permissions(temp.path(), meta.permissions());
        }
        temp.persist(&file).map_err(|e| e.error.to_string())?;
        if let Some(p) = self.profiles.get_mut(name) {
            p.region = Some(region);
        }
        Ok(())
    }
}

fn read_profile(name: &str, item: &Item) -> Result<Profile, String> {
    let table = item
        .as_table_like()
        .ok_or_else(|| format!("profile '{name}' must be a table ([profiles.{name}])"))?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| format!("profile '{name}': {key} must be a string")),
        }
    };
    for key in table.iter().map(|(k, _)| k) {
        if !matches!(
            key,
            "token_env"
                | "token_file"
                | "token_keyring"
                | "region"
                | "base_url"
                | "api_version"
                | "read_only"
                | "format"
        ) {
            let hint = if key == "token" || key == "access_token" {
                " (a token is never written in the file: name its environment variable with token_env, a file only you can read with token_file, or its OS keyring entry with token_keyring)"
            } else {
                " (profiles take token_env, token_file, token_keyring, region, base_url, api_version, read_only, format)"
            };
            return Err(format!("profile '{name}': unknown setting '{key}'{hint}"));
        }
    }
    let sources = [
        text("token_env")?.map(TokenSource::Env),
        text("token_file")?.map(|f| TokenSource::File(expand_home(&f))),
        text("token_keyring")?.map(TokenSource::Keyring),
    ];
    let mut given = sources.into_iter().flatten();
    let token = match (given.next(), given.next()) {
        (Some(source), None) => source,
        (Some(_), Some(_)) => {
            return Err(format!(
                "profile '{name}': give one of token_env, token_file and token_keyring"
            ));
        }
        (None, _) => {
            return Err(format!(
                "profile '{name}' names no token: add token_env = \"VARIABLE\", token_file = \"PATH\" or token_keyring = \"NAME\""
            ));
        }
    };
    let region = match text("region")? {
        None => None,
        Some(r) => Some(
            parse_region(&r)
                .ok_or_else(|| format!("profile '{name}': unknown region '{r}' (us, eu or au)"))?,
        ),
    };
    let read_only = match table.get("read_only") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("profile '{name}': read_only must be true or false"))?,
    };
    let format = text("format")?;
    if let Some(f) = &format
        && !matches!(f.as_str(), "table" | "csv" | "json" | "expanded")
    {
        return Err(format!(
            "profile '{name}': unknown format '{f}' (table, csv, json or expanded)"
        ));
    }
    Ok(Profile {
        name: name.to_string(),
        token,
        region,
        base_url: text("base_url")?.map(|u| u.trim_end_matches('/').to_string()),
        api_version: text("api_version")?,
        read_only,
        format,
    })
}

/// `us`, `eu`, `au` (any case), and the names `GET /me` gives (`US`, `Europe`, `Australia`).
pub fn parse_region(name: &str) -> Option<Region> {
    match name.trim().to_ascii_lowercase().as_str() {
        "us" | "united states" | "usa" => Some(Region::Us),
        "eu" | "europe" => Some(Region::Eu),
        "au" | "australia" => Some(Region::Au),
        _ => None,
    }
}

/// The key a region is written as in the file.
pub fn region_key(region: Region) -> &'static str {
    match region {
        Region::Us => "us",
        Region::Eu => "eu",
        Region::Au => "au",
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// The profile's token, from its environment variable or file.
pub fn read_token(profile: &Profile) -> Result<AccessToken, Error> {
    let name = &profile.name;
    let token = match &profile.token {
        TokenSource::Env(var) => std::env::var(var).map_err(|_| {
            Error::Config(format!(
                "profile '{name}': the environment variable {var} (its token_env) is not set"
            ))
        })?,
        TokenSource::File(path) => {
            check_private(path)?;
            std::fs::read_to_string(path)
                .map_err(|source| Error::Io {
                    context: format!(
                        "profile '{name}': cannot read its token_file {}",
                        path.display()
                    ),
                    source,
                })?
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        }
        TokenSource::Keyring(entry) => from_keyring(name, entry)?,
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::Config(format!(
            "profile '{name}': its token is empty"
        )));
    }
    Ok(AccessToken::new(token))
}

/// Refuses a file holding a secret that others than its owner may read or write (ssh's rule
/// for private keys).
#[cfg(unix)]
pub fn check_private(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        context: format!("cannot read the token file {}", path.display()),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "permissions {mode:04o} of the token file {} are too open: it must be readable by its owner only (chmod 600 {})",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_private(_path: &Path) -> Result<(), Error> {
    Ok(())
}

/// Refuses a configuration file others may write: whoever can change it can point a profile's
/// `base_url` at a host of theirs and be sent its token (ssh's rule for its config).
#[cfg(unix)]
fn check_not_writable_by_others(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Missing: reading it says so.
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(Error::Config(format!(
            "permissions {mode:04o} of the configuration file {} let others change it (and send a token where they like): chmod go-w {}",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_not_writable_by_others(_path: &Path) -> Result<(), Error> {
    Ok(())
}

/// `GET /me` with `token` against `base_url`: the answer, or `None` when the token is refused
/// there (401/403) or the host cannot be reached.
async fn me(base_url: &str, token: &AccessToken, api_version: &str) -> Option<serde_json::Value> {
    let mut config = Config::new(base_url, token.clone());
    config.api_version = api_version.to_string();
    config.timeout = DETECT_TIMEOUT;
    config.max_retries = 0;
    let client = IntercomClient::new(config).ok()?;
    client.send(&ApiRequest::get("/me")).await.ok()
}

/// Finds which region's host accepts `token` (`GET /me` on each, at once): the region and its
/// name as the answer gives it (`app.region`: `US`, `Europe`, `Australia`).
pub async fn detect_region(
    token: &AccessToken,
    hosts: &BTreeMap<Region, String>,
    api_version: &str,
) -> Result<(Region, String), String> {
    let asked = hosts
        .iter()
        .map(|(region, host)| async move { (*region, me(host, token, api_version).await) });
    let answers = futures::future::join_all(asked).await;
    for (region, answer) in answers {
        if let Some(me) = answer {
            let name = me
                .pointer("/app/region")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(match region {
                    Region::Us => "US",
                    Region::Eu => "Europe",
                    Region::Au => "Australia",
                })
                .to_string();
            // The workspace's own word wins over which host answered (a proxy may serve all).
            let region = parse_region(&name).unwrap_or(region);
            return Ok((region, name));
        }
    }
    let tried: Vec<String> = hosts.values().cloned().collect();
    Err(format!(
        "the token was refused by every region's API ({}): check the token",
        tried.join(", ")
    ))
}

/// After a 401 from `config`'s host: the region whose host accepts the token instead, as a
/// sentence saying what to change, if there is one.
pub async fn wrong_region_hint(
    config: &Config,
    hosts: &BTreeMap<Region, String>,
) -> Option<String> {
    // Only a regional host's 401 is asked about: a token meant for another API root (a
    // proxy, an emulator) is not sent to Intercom's hosts.
    if !hosts.values().any(|h| h == &config.base_url) {
        return None;
    }
    let others: BTreeMap<Region, String> = hosts
        .iter()
        .filter(|(_, host)| host.as_str() != config.base_url)
        .map(|(r, h)| (*r, h.clone()))
        .collect();
    let (region, name) = detect_region(&config.token, &others, &config.api_version)
        .await
        .ok()?;
    Some(format!(
        "the token was refused by {} but belongs to a workspace in {name}: use --region {} (or region = \"{}\" in its profile)",
        config.base_url,
        region_key(region),
        region_key(region)
    ))
}

/// Intercom's own regional hosts (no `[regions]` overrides).
pub fn intercom_hosts() -> BTreeMap<Region, String> {
    [Region::Us, Region::Eu, Region::Au]
        .into_iter()
        .map(|r| (r, r.base_url().to_string()))
        .collect()
}

/// What `intercom-sql workspaces` shows of one profile.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub profile: String,
    /// `us`, `eu`, `au`, or empty with a base URL of its own.
    pub region: String,
    pub base_url: String,
    /// Where the token comes from (`env INTERCOM_TOKEN_US`, `file ~/…`), never the token.
    pub token_from: String,
    pub read_only: bool,
    /// The token's admin (`GET /me`: name and email).
    pub admin: String,
    /// The workspace (`app.name`, `app.id_code`) and its region as Intercom names it.
    pub app: String,
    /// Requests left in the current rate-limit window, of how many (`X-RateLimit-*`).
    pub rate_budget: String,
    /// Why the profile could not be reached, if it could not.
    pub error: Option<String>,
}

impl Profiles {
    /// Every profile with what `GET /me` says of it (one request each, at once).
    pub async fn survey(&mut self) -> Vec<Workspace> {
        let names: Vec<String> = self.profiles.keys().cloned().collect();
        let mut resolved = Vec::new();
        for name in &names {
            resolved.push((name.clone(), self.resolve(name).await));
        }
        let asked = resolved.into_iter().map(|(name, resolved)| {
            let profile = self.profiles.get(&name).cloned();
            async move {
                let mut row = Workspace {
                    profile: name.clone(),
                    ..Workspace::default()
                };
                if let Some(p) = &profile {
                    row.token_from = match &p.token {
                        TokenSource::Env(var) => format!("env {var}"),
                        TokenSource::File(path) => format!("file {}", path.display()),
                        TokenSource::Keyring(entry) => format!("keyring {entry}"),
                    };
                    row.read_only = p.read_only;
                }
                let resolved = match resolved {
                    Ok(r) => r,
                    Err(e) => {
                        row.error = Some(e.to_string());
                        return row;
                    }
                };
                row.region = resolved
                    .region
                    .map(region_key)
                    .unwrap_or_default()
                    .to_string();
                row.base_url = resolved.config.base_url.clone();
                let mut config = resolved.config;
                config.timeout = DETECT_TIMEOUT;
                config.max_retries = 0;
                let client = match IntercomClient::new(config) {
                    Ok(c) => c,
                    Err(e) => {
                        row.error = Some(e.to_string());
                        return row;
                    }
                };
                match client.send(&ApiRequest::get("/me")).await {
                    Ok(me) => {
                        let text = |p: &str| {
                            me.pointer(p)
                                .and_then(serde_json::Value::as_str)
                                .unwrap_or("")
                        };
                        row.admin = format!("{} <{}>", text("/name"), text("/email"));
                        row.app = format!(
                            "{} ({}, {})",
                            text("/app/name"),
                            text("/app/id_code"),
                            text("/app/region")
                        );
                        let window = client.budget().window();
                        if let (Some(limit), Some(left)) = (window.limit, window.remaining) {
                            row.rate_budget = format!("{left} of {limit}");
                        }
                    }
                    Err(e) => row.error = Some(e.to_string()),
                }
                row
            }
        });
        futures::future::join_all(asked).await
    }

    /// The regions' hosts this file uses.
    pub fn hosts(&self) -> &BTreeMap<Region, String> {
        &self.hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        path
    }

    #[test]
    fn profiles_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let token = write(dir.path(), "eu.token", "tok-eu\n", 0o600);
        let path = write(
            dir.path(),
            "config.toml",
            &format!(
                "default_profile = \"us\"\n[profiles.us]\ntoken_env = \"PROFILE_TEST_TOKEN\"\nregion = \"us\"\nread_only = true\nformat = \"csv\"\n\
                 [profiles.eu]\ntoken_file = \"{}\"\nregion = \"Europe\"\n[regions]\neu = \"http://127.0.0.1:9/\"\n",
                token.display()
            ),
            0o644,
        );
        let profiles = Profiles::load(&path).unwrap();
        assert_eq!(profiles.default_profile(), Some("us"));
        let us = profiles.get("us").unwrap();
        assert_eq!(us.token, TokenSource::Env("PROFILE_TEST_TOKEN".into()));
        assert!(us.read_only);
        assert_eq!(us.format.as_deref(), Some("csv"));
        let eu = profiles.get("eu").unwrap();
        assert_eq!(eu.region, Some(Region::Eu));
        assert_eq!(read_token(eu).unwrap().expose(), "tok-eu");
        assert_eq!(profiles.host(Region::Eu), "http://127.0.0.1:9");
        assert_eq!(profiles.host(Region::Au), "https://api.au.intercom.io");
        let unknown = profiles.get("euu").unwrap_err().to_string();
        assert!(
            unknown.contains("no profile 'euu'") && unknown.contains("did you mean 'eu'"),
            "{unknown}"
        );
        let far = profiles.get("production").unwrap_err().to_string();
        assert!(far.contains("its profiles are eu, us"), "{far}");
    }

    #[cfg(unix)]
    #[test]
    fn a_token_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let token = write(dir.path(), "t", "secret-token-value", 0o644);
        let profile = Profile {
            name: "p".into(),
            token: TokenSource::File(token.clone()),
            region: None,
            base_url: None,
            api_version: None,
            read_only: false,
            format: None,
        };
        let error = read_token(&profile).unwrap_err().to_string();
        assert!(
            error.contains("permissions 0644") && error.contains("chmod 600"),
            "{error}"
        );
        assert!(!error.contains("secret-token-value"));
        write(dir.path(), "t", "secret-token-value", 0o640);
        assert!(read_token(&profile).is_err(), "group-readable too");
        write(dir.path(), "t", "secret-token-value", 0o400);
        assert_eq!(read_token(&profile).unwrap().expose(), "secret-token-value");
    }

    #[cfg(unix)]
    #[test]
    fn a_configuration_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "c.toml",
            "[profiles.a]\ntoken_env = \"X\"\n",
            0o666,
        );
        let error = Profiles::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("permissions 0666") && error.contains("chmod go-w"),
            "{error}"
        );
        write(
            dir.path(),
            "c.toml",
            "[profiles.a]\ntoken_env = \"X\"\n",
            0o644,
        );
        assert!(
            Profiles::load(&path).is_ok(),
            "readable by others is fine: no secret in it"
        );
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            (
                "[profiles.a]\ntoken = \"abc\"\n",
                "a token is never written in the file",
            ),
            ("[profiles.a]\nregion = \"us\"\n", "names no token"),
            (
                "[profiles.a]\ntoken_env = \"X\"\nregion = \"mars\"\n",
                "unknown region 'mars'",
            ),
            (
                "[profiles.a]\ntoken_env = \"X\"\nformat = \"xml\"\n",
                "unknown format 'xml'",
            ),
            (
                "default_profile = \"b\"\n[profiles.a]\ntoken_env = \"X\"\n",
                "default_profile 'b'",
            ),
            ("[profiles.a\n", "not valid TOML"),
        ] {
            let path = write(dir.path(), "c.toml", text, 0o600);
            let error = Profiles::load(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("abc"), "the token is not repeated: {error}");
        }
    }
}
