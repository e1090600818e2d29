package dev.vcpuemu.engine.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * Output files are never left half-written: each is written to a temporary file beside its
 * target, then moved over it in one atomic rename. A failure leaves the target as it was.
 *
 * <p>The temporary file is created as any new file is (mode 0666 less the umask: 0644 under
 * the usual 022), not with {@code Files.createTempFile}, whose files are private (0600): the
 * rename keeps the temporary file's mode, and reports are meant to be shared.
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

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
        Path tmp = createTemporary(dir, target.getFileName().toString());
        try {
            T result = writer.writeTo(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return result;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A new, empty file {@code NAME.RANDOM.tmp} in {@code dir}, with the default permissions. */
    private static Path createTemporary(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(name + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException taken) {
                if (attempt == 10) {
                    throw taken;
                }
            }
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }
}
