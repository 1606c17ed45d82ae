package dev.certknock.cli;

import picocli.CommandLine;

/** {@code --version}: the tool's name and the version from its jar manifest. */
public final class ManifestVersionProvider implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
        Package p = ManifestVersionProvider.class.getPackage();
        String version = p.getImplementationVersion();
        return new String[] {
            "${COMMAND-FULL-NAME} " + (version != null ? version : "(development build)"),
            "certknock: certificate-based single packet authorization",
            "Java ${java.version} (${java.vendor})"
        };
    }
}
