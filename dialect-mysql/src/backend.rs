//! MySQL and MariaDB as a registry sees them: `mysql://` and `mariadb://` URLs and how they
//! open a [`MySqlStore`].

use async_trait::async_trait;
use godwit_core::backend::server_location;
use godwit_core::url::UrlError;
use godwit_core::{Backend, ConnectOptions, Dialect, Location, Store, StoreError};

use crate::{MySqlDialect, MySqlStore};

/// The MySQL/MariaDB backend: `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` and the same
/// with `mariadb://`, as sqlx reads them (`?socket=/path` for a unix socket).
#[derive(Debug, Clone, Copy, Default)]
pub struct MySqlBackend;

#[async_trait]
impl Backend for MySqlBackend {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &MySqlDialect
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["mysql", "mariadb"]
    }

    fn url_forms(&self) -> &'static [&'static str] {
        &["mysql://USER@HOST/DB", "mariadb://USER@HOST/DB"]
    }

    fn locate(&self, url: &str) -> Result<Location, UrlError> {
        server_location(
            url,
            self.schemes(),
            "mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
        )
    }

    async fn open(
        &self,
        url: &str,
        _location: &Location,
        _options: &ConnectOptions,
    ) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(MySqlStore::connect(url).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_server_is_refused_without_its_password() {
        assert_eq!(
            MySqlBackend.locate("mariadb://u@h/db").unwrap(),
            Location::Server
        );
        let error = MySqlBackend.locate("mysql:/u:s3cret@h/db").unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("names no server"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
