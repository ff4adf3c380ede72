/** The product version (semver). Update bundles compare against it. */
export const VERSION = "0.1.0";
