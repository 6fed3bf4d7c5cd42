"""What a personal certificate says about its use, its policy and where its CRL is published.

Without these, a generic validator has nothing to go on: no extendedKeyUsage to hold the
certificate to document signing, no certificatePolicies to match against the institution's
policy, and no cRLDistributionPoints — so a validator that checks revocation only where a
certificate names its CRL (pyhanko-certvalidator's default "soft-fail" mode) calls a revoked
certificate valid. Personal certificates therefore carry, besides keyUsage (unchanged):

- extendedKeyUsage (non-critical): id-kp-documentSigning (RFC 9336), the purpose they are for,
  and id-kp-emailProtection. The second is there for ``openssl cms -verify``: without
  ``-purpose any`` it checks the S/MIME signing purpose, which an extendedKeyUsage without
  emailProtection fails ("unsupported certificate purpose"). docgen's own calls, VERIFY.txt and
  the archive's verify.sh all pass ``-purpose any``, but an archivist typing the plain command
  must not be told a good signature is bad. The cost is small: the certificates hold no e-mail
  address, so no mail client can take a docgen signature for a signed e-mail from a sender.
- certificatePolicies (non-critical): the institution's policy OID (``certificate_policy_oid``
  in docgen.toml, by default derived from its name, see
  :func:`docgen.core.workspace.default_policy_oid`).
- cRLDistributionPoints (non-critical): ``crl_url`` from docgen.toml (an http(s) URL, checked
  when the config is read).

The root certificate gets none of them (see :mod:`docgen.signing.ca`). Certificates issued
before keep working: nothing in docgen requires these extensions.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from docgen.core.workspace import DEFAULT_CRL_URL, Config, default_policy_oid

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336
KEY_PURPOSES = (DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION)


@dataclass(frozen=True)
class CertificateProfile:
    """The institution's settings that go into every personal certificate."""

    policy_oid: str
    crl_url: str

    @classmethod
    def of(cls, config: Config) -> CertificateProfile:
        return cls(policy_oid=config.policy_oid, crl_url=config.crl_url)

    @classmethod
    def default(cls, institution: str) -> CertificateProfile:
        """What a docgen.toml that sets neither field gives."""
        return cls(policy_oid=default_policy_oid(institution), crl_url=DEFAULT_CRL_URL)

    def extensions(self) -> list[x509.ExtensionType]:
        """extendedKeyUsage, certificatePolicies and cRLDistributionPoints, all non-critical."""
        return [
            x509.ExtendedKeyUsage(list(KEY_PURPOSES)),
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier(self.policy_oid), None)]
            ),
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(self.crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
        ]
