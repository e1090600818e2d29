package dev.vcpuemu.app.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Output files are never left half-written: each is written to a temporary file beside its
 * target, then moved over it in one atomic rename. A failure leaves the target as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the temporary file it is given, and says what it wrote. */
    @FunctionalInterface
    public interface Writer<T> {
        T writeTo(Path tmp) throws IOException;
    }

    /** @return what {@code writer} returned */
    public static <T> T write(Path target, Writer<T> writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
        try {
            T result = writer.writeTo(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return result;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }
}
