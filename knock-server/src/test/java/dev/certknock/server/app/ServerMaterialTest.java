package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.ServerFixture;
import dev.certknock.server.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerMaterialTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();

    @Test
    void theSameServerKeyListedTwiceIsAConfigurationErrorAtTheSecondEntry() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        // a hurried rotation: the new entry still points at the old bundle
        Files.writeString(config, Files.readString(config).replace("""
                    - bundle: server.p12
                      passwordFile: password.txt
                """, """
                    - bundle: server.p12
                      passwordFile: password.txt
                    - bundle: ./server.p12
                      passwordFile: password.txt
                """));

        assertThatThrownBy(() -> ServerMaterial.load(config))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.file()).isEqualTo(config);
                    assertThat(e.line()).isEqualTo(6); // the second entry's line, not a bare exception at start
                    assertThat(e.getMessage()).contains("is the one server.identities[0] already holds")
                            .contains("list each server key once");
                });
    }

    @Test
    void twoDifferentKeysLoadBoth() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        f.writeIdentity(dir, "next.p12");
        Files.writeString(config, Files.readString(config).replace("""
                      passwordFile: password.txt
                """, """
                      passwordFile: password.txt
                    - bundle: next.p12
                      passwordFile: password.txt
                """));
        assertThat(ServerMaterial.load(config).keys()).hasSize(2);
    }
}
