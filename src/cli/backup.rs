//! `backup PATH`: a consistent copy of the live register and its archive.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::store::Store;

pub async fn backup(settings: &Settings, path: &Path) -> anyhow::Result<ExitCode> {
    if path.exists() {
        anyhow::bail!("{} already exists; choose a new file", path.display());
    }
    let store = Store::open(&settings.database.url).await?;
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be UTF-8"))?;
    let (archive, files) = store
        .backup(target)
        .await
        .with_context(|| format!("cannot write the backup {}", path.display()))?;
    println!(
        "backup written to {} and its archive ({files} files) to {}",
        path.display(),
        archive.display()
    );
    Ok(ExitCode::SUCCESS)
}
