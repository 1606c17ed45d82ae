package dev.certknock.server.app;

import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.config.ConfigException;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.trust.TrustStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a configuration points at, loaded and checked: the server's knock keys and the trust anchors.
 * Every failure names the file, line and column of the key that pointed at the file, and what to do.
 */
public record ServerMaterial(ServerConfig config, Path configFile, List<ServerPrivateKey> keys, TrustStore trust) {

    /** How the problem of a bundle whose password does not open it begins. */
    private static final String WRONG_PASSWORD = "wrong password for ";

    public ServerMaterial {
        keys = List.copyOf(keys);
    }

    /** Whether a problem {@link #load} reported is a wrong bundle password (credentials, not configuration). */
    public static boolean wrongPassword(ConfigException.Problem problem) {
        return problem.message().startsWith(WRONG_PASSWORD);
    }

    public static ServerMaterial load(Path configFile) throws ConfigException {
        return load(configFile, System.getenv());
    }

    /**
     * As {@link #load(Path)}, with the environment given (for passwordEnv), for tests. Every file is tried even when
     * one before it failed: the exception holds every problem, sorted by line.
     */
    public static ServerMaterial load(Path configFile, Map<String, String> env) throws ConfigException {
        ServerConfig config = ConfigLoader.load(configFile);
        List<ConfigException> problems = new ArrayList<>();
        List<ServerPrivateKey> keys = new ArrayList<>();
        List<ServerConfig.Identity> ids = config.server().identities();
        Map<String, Integer> keyIds = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            try {
                for (ServerPrivateKey k : loadIdentity(configFile, "/server/identities/" + i, ids.get(i), env)) {
                    Integer first = keyIds.putIfAbsent(k.publicKey().keyIdHex(), i);
                    if (first != null) {
                        // Knocks name their server key by this id: two keys with one id cannot both be meant.
                        problems.add(ConfigLoader.at(configFile, "/server/identities/" + i, "this identity's knock key "
                                + "(key id " + k.publicKey().keyIdHex() + ") is the one server.identities[" + first
                                + "] already holds: list each server key once (remove this entry, or point it at the new "
                                + "bundle if you meant to rotate)", null));
                    } else {
                        keys.add(k);
                    }
                }
            } catch (ConfigException e) {
                problems.add(e);
            }
        }
        List<X509Certificate> anchors = new ArrayList<>();
        for (int i = 0; i < config.trust().anchors().size(); i++) {
            try {
                anchors.addAll(certificates(configFile, "/trust/anchors/" + i, config.trust().anchors().get(i)));
            } catch (ConfigException e) {
                problems.add(e);
            }
        }
        List<X509Certificate> intermediates = new ArrayList<>();
        for (int i = 0; i < config.trust().intermediates().size(); i++) {
            try {
                intermediates.addAll(certificates(configFile, "/trust/intermediates/" + i,
                        config.trust().intermediates().get(i)));
            } catch (ConfigException e) {
                problems.add(e);
            }
        }
        problems.addAll(checkStatePaths(configFile, config));
        if (!problems.isEmpty()) {
            throw problems.size() == 1 ? problems.get(0) : new ConfigException(problems);
        }
        return new ServerMaterial(config, configFile, keys, new TrustStore(anchors, intermediates));
    }

    /**
     * The files and directories the server writes must be writable (or creatable) now, so that
     * {@code check-config} finds a wrong path or owner, at its line in the configuration, before a start
     * that would fail later.
     */
    private static List<ConfigException> checkStatePaths(Path configFile, ServerConfig config) {
        List<ConfigException> problems = new ArrayList<>();
        writable(problems, configFile, "/knock/replayJournal", config.knock().replayJournal(), false);
        writable(problems, configFile, "/crl/cacheDir", config.crl().cacheDir(), true);
        if (config.logging().audit() != null) {
            writable(problems, configFile, "/logging/audit", config.logging().audit(), false);
        }
        ServerConfig.KeepRefused keep = config.diagnostics().keepRefused();
        if (keep != null) {
            writable(problems, configFile, keep.directory() != null ? "/diagnostics/keepRefused/directory"
                    : "/diagnostics/keepRefused", keep.directoryOr(config.knock().replayJournal()), true);
        }
        if (config.firewall().backend() == ServerConfig.FirewallBackend.COMMAND) {
            writable(problems, configFile, "/firewall/command/stateFile", config.firewall().command().stateFile(), false);
        }
        return problems;
    }

    private static void writable(List<ConfigException> problems, Path configFile, String pointer, Path path,
            boolean directory) {
        try {
            checkWritable(configFile, pointer, path, directory);
        } catch (ConfigException e) {
            problems.add(e);
        }
    }

    static void checkWritable(Path configFile, String pointer, Path path, boolean directory) throws ConfigException {
        Path p = path.toAbsolutePath();
        String kind = directory ? "directory" : "file";
        if (Files.exists(p)) {
            if (directory ? !Files.isDirectory(p) : !Files.isRegularFile(p)) {
                throw ConfigLoader.at(configFile, pointer, p + " exists but is not a " + (directory ? "directory"
                        : "regular file") + ": remove it or choose another path", null);
            }
            if (!Files.isWritable(p)) {
                throw ConfigLoader.at(configFile, pointer, "the " + kind + " " + p + " is not writable by this user: "
                        + "give the server's user write access (owner or mode) or choose another path", null);
            }
            return;
        }
        Path ancestor = p.getParent();
        while (ancestor != null && !Files.exists(ancestor)) {
            ancestor = ancestor.getParent();
        }
        if (ancestor == null || !Files.isDirectory(ancestor) || !Files.isWritable(ancestor)) {
            throw ConfigLoader.at(configFile, pointer, "cannot create the " + kind + " " + p + ": "
                    + (ancestor == null ? "no existing parent" : ancestor + " is not a writable directory")
                    + "; create it for the server's user (e.g. /var/lib/certknock, owned by that user) or choose "
                    + "another path", null);
        }
    }

    private static List<ServerPrivateKey> loadIdentity(Path configFile, String pointer, ServerConfig.Identity id,
            Map<String, String> env) throws ConfigException {
        char[] password;
        if (id.passwordFile() != null) {
            try {
                String first = Files.readAllLines(id.passwordFile(), StandardCharsets.UTF_8).stream().findFirst().orElse("");
                password = first.toCharArray();
            } catch (IOException e) {
                throw ConfigLoader.at(configFile, pointer + "/passwordFile",
                        "cannot read the password file " + id.passwordFile() + ": " + describe(e), e);
            }
        } else {
            String value = env.get(id.passwordEnv());
            if (value == null) {
                throw ConfigLoader.at(configFile, pointer + "/passwordEnv",
                        "the environment variable " + id.passwordEnv() + " is not set: export it with the bundle password", null);
            }
            password = value.toCharArray();
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(id.bundle())) {
                ks.load(in, password);
            } catch (IOException e) {
                if (e.getCause() instanceof java.security.UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                    throw ConfigLoader.at(configFile, pointer + "/bundle",
                            WRONG_PASSWORD + id.bundle() + ": check the password source", null);
                }
                throw ConfigLoader.at(configFile, pointer + "/bundle",
                        "cannot read the PKCS#12 bundle " + id.bundle() + ": " + describe(e), e);
            }
            List<ServerPrivateKey> keys = new ArrayList<>();
            for (String alias : Collections.list(ks.aliases())) {
                if (!ks.isKeyEntry(alias)) {
                    continue;
                }
                Key key = ks.getKey(alias, password);
                Certificate cert = ks.getCertificate(alias);
                if (key instanceof PrivateKey pk && cert instanceof X509Certificate x) {
                    try {
                        keys.add(ServerPrivateKey.of(pk, x));
                    } catch (IllegalArgumentException e) {
                        throw ConfigLoader.at(configFile, pointer + "/bundle", id.bundle() + " entry '" + alias
                                + "': " + e.getMessage(), e);
                    }
                }
            }
            if (keys.isEmpty()) {
                throw ConfigLoader.at(configFile, pointer + "/bundle", id.bundle()
                        + " holds no private key with a certificate: issue a server bundle with knock-ca issue-server", null);
            }
            return keys;
        } catch (GeneralSecurityException e) {
            throw ConfigLoader.at(configFile, pointer + "/bundle", "cannot use " + id.bundle() + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    static String describe(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied (the server user must be able to read it)";
        }
        return e.getMessage();
    }

    private static List<X509Certificate> certificates(Path configFile, String pointer, Path file) throws ConfigException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw ConfigLoader.at(configFile, pointer, file + " holds no certificate: give a PEM or DER CA certificate", null);
            }
            return out;
        } catch (IOException | GeneralSecurityException e) {
            throw ConfigLoader.at(configFile, pointer, "cannot read the certificate " + file + ": " + describe(e), e);
        }
    }
}
