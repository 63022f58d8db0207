//! ACM certificates (acm ListCertificates, then DescribeCertificate for each, all at once),
//! one item per certificate as DescribeCertificate returns it (expiry `NotAfter`,
//! `KeyAlgorithm`, `Status`, `InUseBy`, ...) plus `InUse`. Every key type is listed, not
//! only the RSA-2048 and EC-P256 ones ListCertificates returns by default.

use mrhost_plugin_sdk::prelude::*;

struct AcmCertificates;

/// Every key type ACM issues or imports.
const KEY_TYPES: [&str; 7] = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
];

impl Plugin for AcmCertificates {
    fn manifest() -> PluginManifest {
        manifest("acm-certificates", "acm:certificate")
            .describe("ACM certificates (acm ListCertificates, then DescribeCertificate each): expiry, in use, key algorithm")
            .operation("acm:ListCertificates")
            .operation("acm:DescribeCertificate")
            .model_shape("acm:CertificateDetail")
            .id_field("CertificateArn")
            .column("InUse", ValueKind::Bool, "Whether another AWS resource uses the certificate")
            .columns(&["DomainName", "Status", "Type", "NotAfter", "KeyAlgorithm", "InUse"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let listed = items(
            "acm",
            "ListCertificates",
            json!({"Includes": {"keyTypes": KEY_TYPES}}),
            "CertificateSummaryList",
        )
        .collect::<Result<Vec<_>, _>>()?;
        for (_summary, described) in enrich(listed, |c| {
            request(
                "acm",
                "DescribeCertificate",
                json!({"CertificateArn": c["CertificateArn"]}),
            )
        }) {
            let mut cert = match described {
                Ok(mut d) => d["Certificate"].take(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let in_use = cert["InUseBy"].as_array().is_some_and(|a| !a.is_empty());
            if let Some(o) = cert.as_object_mut() {
                o.insert("InUse".into(), json!(in_use));
            }
            emit(&cert);
        }
        Ok(())
    }
}

export_plugin!(AcmCertificates);
