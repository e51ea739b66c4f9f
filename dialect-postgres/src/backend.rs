//! PostgreSQL as a registry sees it: `postgres://` URLs and how they open a [`PgStore`].

use async_trait::async_trait;
use godwit_core::backend::server_location;
use godwit_core::url::UrlError;
use godwit_core::{Backend, ConnectOptions, Dialect, Location, Store, StoreError};

use crate::{PgDialect, PgOptions, PgStore};

/// The PostgreSQL backend: `postgres://` and `postgresql://` URLs (and key/value connection
/// parameters in their query string), as libpq reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgBackend;

#[async_trait]
impl Backend for PgBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &PgDialect
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    fn url_forms(&self) -> &'static [&'static str] {
        &["postgres://USER@HOST/DB"]
    }

    fn locate(&self, url: &str) -> Result<Location, UrlError> {
        server_location(
            url,
            self.schemes(),
            "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
        )
    }

    async fn open(
        &self,
        url: &str,
        _location: &Location,
        options: &ConnectOptions,
    ) -> Result<Box<dyn Store>, StoreError> {
        let mut postgres = PgOptions::default();
        postgres.schema.clone_from(&options.schema);
        if let Some(name) = &options.application_name {
            postgres.application_name.clone_from(name);
        }
        Ok(Box::new(PgStore::connect(url, &postgres).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_server_is_refused_without_its_password() {
        assert_eq!(
            PgBackend.locate("postgresql://u@h/db").unwrap(),
            Location::Server
        );
        let error = PgBackend.locate("postgres:/u:s3cret@h/db").unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("names no server"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
