package dev.certknock.ca.issue;

import java.nio.file.Path;
import java.util.List;

/** A certificate issued, and the files written for it. */
public record IssueResult(String serial, String subject, String kind, String detail, String notBefore, String notAfter,
        String fingerprint, List<Path> files) {
}
