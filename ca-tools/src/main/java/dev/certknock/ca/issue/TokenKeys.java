package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.token.Pkcs11Token;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The CSR path with a key on a PKCS#11 token: the key is made on the token and never leaves it; the request is
 * signed there; the certificate the CA returns goes onto the token beside the key, where knock finds it.
 *
 * @param module the PKCS#11 module (library) path
 * @param tokenLabel the token's label
 * @param keyLabel the label of the key (and of its certificate) on the token
 */
public record TokenKeys(Path module, String tokenLabel, String keyLabel) {

    /** Makes a P-256 key on the token and a PEM request ({@code csrOut}) for CN={@code name}, signed on the token. */
    public void makeRequest(String name, char[] pin, Path csrOut) {
        var subject = Names.commonName(name, "the client name");
        AtomicFiles.requireAbsent(csrOut);
        try (Pkcs11Token token = open(pin)) {
            KeyPair keys = token.generateKey(keyLabel, name);
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").setProvider(token.provider())
                    .build(keys.getPrivate());
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic())
                    .build(signer);
            AtomicFiles.writeNew(csrOut, Pki.pem(csr).getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
        } catch (IdentityException e) {
            throw failure(e);
        } catch (OperatorCreationException e) {
            throw CaException.failure("token '" + tokenLabel + "' cannot sign the request: " + e.getMessage());
        }
    }

    /** Stores the certificate and chain the CA returned ({@code certificateAndChain}, PEM) with the key. */
    public X509Certificate install(char[] pin, Path certificateAndChain) {
        List<X509Certificate> chain = PemFiles.certificates(certificateAndChain);
        try (Pkcs11Token token = open(pin)) {
            token.installCertificate(keyLabel, chain);
            // Read back as knock reads it: the key signs, and its certificate matches.
            return token.identity(keyLabel).certificate();
        } catch (IdentityException e) {
            throw failure(e);
        }
    }

    private Pkcs11Token open(char[] pin) {
        try {
            return Pkcs11Token.open(module, tokenLabel, pin);
        } catch (IdentityException e) {
            throw failure(e);
        }
    }

    private static CaException failure(IdentityException e) {
        CaException.Kind kind = switch (e.reason()) {
            case WRONG_PASSWORD -> CaException.Kind.BAD_CREDENTIALS;
            case AMBIGUOUS_KEY -> CaException.Kind.FAILURE;
            case UNREADABLE, MALFORMED, NO_KEY, UNSUPPORTED_KEY -> CaException.Kind.BAD_INPUT;
        };
        return new CaException(kind, e.getMessage(), e);
    }
}
