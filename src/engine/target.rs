//! Where requests go: the plan's base URL with the token from the environment, or, when the plan
//! names none, the embedded simulator started in-process on a loopback port.

use std::net::{Ipv4Addr, SocketAddr};

use rand::RngExt;

use super::EngineError;
use crate::api::Credentials;
use crate::scenario::Plan;
use crate::sim::{SimConfig, SimServer};

/// The resolved target of a run.
pub struct Target {
    pub base_url: String,
    pub credentials: Credentials,
    /// The token, kept only to scrub it from anything written.
    pub secret: String,
    /// The Make connection new agents use (any positive id works on the simulator).
    pub make_connection_id: u64,
    /// The embedded simulator, when the run uses one.
    pub simulator: Option<SimServer>,
}

impl Target {
    pub fn is_embedded(&self) -> bool {
        self.simulator.is_some()
    }

    /// Whether the server runs on this machine (and so competes with the load for its cores).
    pub fn is_local(&self) -> bool {
        self.is_embedded() || crate::model::is_loopback_url(&self.base_url)
    }
}

/// Resolves the plan's target; an error here is invalid input (exit 2).
pub async fn resolve(plan: &Plan) -> Result<Target, EngineError> {
    let target = &plan.target;
    let Some(base_url) = &target.base_url else {
        let token = random_hex(16);
        let mut config = SimConfig::new(token.clone());
        config.seed = plan.simulator.seed;
        config.default_profile = plan.simulator.default_profile;
        config.models = plan.simulator.models.clone();
        config.faults = plan.simulator.faults.clone();
        let server = SimServer::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(EngineError::Simulator)?;
        return Ok(Target {
            base_url: server.base_url(),
            credentials: Credentials::new(target.auth, &token)
                .expect("a generated token is a valid header"),
            secret: token,
            make_connection_id: target.make_connection_id.unwrap_or(1),
            simulator: Some(server),
        });
    };
    let env = &target.token_env;
    let token = std::env::var(env).unwrap_or_default();
    if token.trim().is_empty() {
        return Err(EngineError::NoToken { env: env.clone() });
    }
    let credentials =
        Credentials::new(target.auth, &token).map_err(|reason| EngineError::BadToken {
            env: env.clone(),
            reason: reason.to_string(),
        })?;
    Ok(Target {
        base_url: base_url.clone(),
        credentials,
        secret: token.trim().to_owned(),
        make_connection_id: target.make_connection_id.unwrap_or(1),
        simulator: None,
    })
}

/// `bytes` random bytes as lowercase hex: run ids (4 bytes) and simulator tokens (16 bytes).
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}
