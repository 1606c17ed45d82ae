package dev.certknock.server.config;

import java.nio.file.Path;

/** The smallest valid server configuration, for tests that add or change a few keys, and its parser. */
public final class MinimalConfig {

    /** Eight lines: the server name and its one identity, one trust anchor, tcp/22 protected. */
    public static final String YAML = """
            server:
              name: gw1
              identities:
                - bundle: server.p12
                  passwordEnv: PW
            trust:
              anchors: [ca.pem]
            protect: [tcp/22]
            """;

    private MinimalConfig() {
    }

    /** Parses {@code yaml} as test.yaml in /etc/certknock (nothing it names is read). */
    public static ServerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(Path.of("test.yaml"), yaml, Path.of("/etc/certknock"));
    }
}
