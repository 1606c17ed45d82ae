package dev.certknock.server.replay;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The replay journal cannot be used: not a certknock replay journal, a version this server does not
 * read, or held by another guard. The message names the file and what to do.
 */
public final class ReplayJournalException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;

    ReplayJournalException(Path path, String message) {
        super(path + ": " + message);
        this.path = path;
    }

    /** The journal file concerned. */
    public Path path() {
        return path;
    }
}
