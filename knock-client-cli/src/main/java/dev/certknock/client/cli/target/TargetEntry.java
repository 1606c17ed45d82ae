package dev.certknock.client.cli.target;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * One named target of the targets file. Paths are stored absolute. Absent fields are left out of the file.
 *
 * @param host host name or address to knock on
 * @param port the knock port (absent: 62201)
 * @param serverCert the server certificate file (PEM or DER)
 * @param bundle the PKCS#12 bundle with the client key
 * @param alias the key entry in the bundle, when it holds several
 * @param caCert a CA certificate file, when the bundle carries no root
 * @param grants grants to request when none are named on the command line, e.g. [tcp/22]
 * @param duration seconds to ask for when --duration is not given
 * @param passwordFile a file whose first line is the bundle's password (a path, never the password itself)
 * @param serverName the name the server certificate carries, when it is not {@code host} (--server-name)
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"host", "port", "serverName", "serverCert", "bundle", "alias", "passwordFile", "caCert", "grants",
    "duration"})
public record TargetEntry(String host, Integer port, String serverCert, String bundle, String alias, String caCert,
        List<String> grants, Integer duration, String passwordFile, String serverName) {

    public TargetEntry {
        grants = grants == null ? List.of() : List.copyOf(grants);
    }
}
