package dev.certknock.ca.inspect;

import dev.certknock.ca.inspect.Inspection.BundleEntry;
import dev.certknock.ca.inspect.Inspection.BundleInfo;
import dev.certknock.ca.inspect.Inspection.CertificateInfo;
import dev.certknock.ca.inspect.Inspection.CertificateList;
import dev.certknock.ca.inspect.Inspection.CrlInfo;
import dev.certknock.ca.inspect.Inspection.GrantInfo;
import dev.certknock.ca.inspect.Inspection.RevokedInfo;
import java.util.List;

/** The human form of an {@link Inspection}. */
public final class InspectionText {

    private InspectionText() {
    }

    public static String render(Inspection inspection) {
        StringBuilder s = new StringBuilder();
        if (inspection instanceof CertificateInfo c) {
            certificate(s, c, "");
        } else if (inspection instanceof CertificateList l) {
            for (int i = 0; i < l.certificates().size(); i++) {
                s.append("Certificate ").append(i + 1).append(" of ").append(l.certificates().size()).append('\n');
                certificate(s, l.certificates().get(i), "  ");
            }
        } else if (inspection instanceof CrlInfo crl) {
            crl(s, crl);
        } else if (inspection instanceof BundleInfo b) {
            s.append("PKCS#12 bundle, ").append(b.entries().size()).append(b.entries().size() == 1 ? " entry" : " entries").append('\n');
            for (BundleEntry e : b.entries()) {
                s.append("Entry '").append(e.alias()).append("': ").append(e.hasKey() ? "private key with " : "")
                        .append(e.chain().size()).append(e.chain().size() == 1 ? " certificate" : " certificates").append('\n');
                for (int i = 0; i < e.chain().size(); i++) {
                    s.append("  Certificate ").append(i + 1).append('\n');
                    certificate(s, e.chain().get(i), "    ");
                }
            }
        }
        return s.toString();
    }

    private static void certificate(StringBuilder s, CertificateInfo c, String in) {
        line(s, in, "Subject", c.subject());
        line(s, in, "Issuer", c.issuer());
        line(s, in, "Serial", c.serial());
        line(s, in, "Valid", c.notBefore() + " to " + c.notAfter());
        line(s, in, "Key", c.keyAlgorithm());
        line(s, in, "CA", c.ca() ? "yes" + (c.pathLength() != null ? ", path length " + c.pathLength() : "") : "no");
        list(s, in, "Key usage", c.keyUsage());
        list(s, in, "Extended key usage", c.eku());
        list(s, in, "DNS names", c.dnsNames());
        list(s, in, "CRL", c.crlDistributionPoints());
        if (c.knockKeyId() != null) {
            line(s, in, "Knock key id", c.knockKeyId());
        }
        if (c.ca()) {
            bound(s, c, in);
        } else if (c.grantsError() != null) {
            line(s, in, "Grants", "UNREADABLE: " + c.grantsError());
        } else if (!c.grants().isEmpty()) {
            StringBuilder g = new StringBuilder();
            for (GrantInfo gi : c.grants()) {
                g.append(g.length() == 0 ? "" : " ").append(gi.protocol()).append('/').append(gi.first())
                        .append(gi.first() == gi.last() ? "" : "-" + gi.last());
            }
            line(s, in, "Grants", g + (Boolean.TRUE.equals(c.grantsCritical()) ? " (critical)" : ""));
            line(s, in, "Max open", c.maxOpenSeconds() == null ? "server's limit" : c.maxOpenSeconds() + " s");
            line(s, in, "Servers", c.servers().isEmpty() ? "any" : String.join(", ", c.servers()));
            line(s, in, "Sources", c.sources().isEmpty() ? "any" : String.join(", ", c.sources()));
        }
        line(s, in, "SHA-256", c.sha256());
    }

    /** A CA's grants extension is a bound on every certificate below it (docs/GRANT-EXTENSION.md). */
    private static void bound(StringBuilder s, CertificateInfo c, String in) {
        if (c.grantsError() != null) {
            line(s, in, "Bound", "UNREADABLE: " + c.grantsError() + " (servers refuse every client certificate below)");
            return;
        }
        if (c.grants().isEmpty()) {
            line(s, in, "Bound", "none: this CA may issue any grant");
            return;
        }
        line(s, in, "Bound grants", grantText(c.grants()) + (Boolean.TRUE.equals(c.grantsCritical()) ? " (critical)" : ""));
        line(s, in, "Bound max open", c.maxOpenSeconds() == null ? "none" : c.maxOpenSeconds() + " s (openings below are cut to it)");
        line(s, in, "Bound servers", c.servers().isEmpty() ? "any" : String.join(", ", c.servers()));
        line(s, in, "Bound sources", c.sources().isEmpty() ? "any" : String.join(", ", c.sources()));
    }

    private static String grantText(List<GrantInfo> grants) {
        StringBuilder g = new StringBuilder();
        for (GrantInfo gi : grants) {
            g.append(g.length() == 0 ? "" : " ").append(gi.protocol()).append('/').append(gi.first())
                    .append(gi.first() == gi.last() ? "" : "-" + gi.last());
        }
        return g.toString();
    }

    private static void crl(StringBuilder s, CrlInfo c) {
        line(s, "", "CRL issuer", c.issuer());
        line(s, "", "CRL number", c.crlNumber() == null ? "none" : c.crlNumber().toString());
        line(s, "", "This update", c.thisUpdate());
        line(s, "", "Next update", c.nextUpdate() == null ? "none" : c.nextUpdate());
        line(s, "", "Signature", c.signatureAlgorithm());
        line(s, "", "Revoked", Integer.toString(c.revoked().size()));
        for (RevokedInfo r : c.revoked()) {
            s.append("  ").append(r.serial()).append("  ").append(r.revocationDate()).append("  ")
                    .append(r.reason() == null ? "(no reason)" : r.reason()).append('\n');
        }
    }

    private static void line(StringBuilder s, String indent, String label, String value) {
        s.append(indent).append(String.format("%-21s", label + ":")).append(value).append('\n');
    }

    private static void list(StringBuilder s, String indent, String label, List<String> values) {
        if (!values.isEmpty()) {
            line(s, indent, label, String.join(", ", values));
        }
    }
}
