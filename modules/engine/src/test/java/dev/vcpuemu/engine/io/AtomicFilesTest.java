package dev.vcpuemu.engine.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Output files: whole or untouched, and with the permissions of any new file (not private). */
class AtomicFilesTest {
    @TempDir
    Path tmp;

    @Test
    void aWrittenFileHasTheDefaultPermissionsOfANewFile() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path plain = Files.createFile(tmp.resolve("plain.txt"));
        Path report = tmp.resolve("report.json");
        AtomicFiles.writeString(report, "{}");
        AtomicFiles.writeString(report, "{\"again\": true}");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(report),
                "as the umask gives a new file (0644 under 022), not 0600");
        assertEquals("{\"again\": true}", Files.readString(report));
    }

    @Test
    void aFailedWriteLeavesTheTargetAsItWasAndNoTemporaryFile() throws IOException {
        Path report = tmp.resolve("report.json");
        Files.writeString(report, "good");
        assertThrows(IOException.class, () -> AtomicFiles.write(report, t -> {
            Files.writeString(t, "half");
            throw new IOException("disk full");
        }));
        assertEquals("good", Files.readString(report));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(report), files.toList());
        }
    }
}
