package loan_pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system, setting permissions through java.nio instead of a forked process.
 *
 * Without Hadoop's native library (pip's pyspark has none), RawLocalFileSystem runs a `chmod`
 * process for every file and folder it creates: about 850 processes forked by the Spark JVM per
 * full ingest. Only the permission call changes; modes with bits beyond rwx (sticky, setuid) still
 * go through Hadoop's own code.
 */
public class LocalFileSystem extends RawLocalFileSystem {
    // Bit i of a Unix mode, lowest first: others x/w/r, group x/w/r, owner x/w/r.
    private static final PosixFilePermission[] MODE_BITS = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
    };

    @Override
    public void setPermission(Path path, FsPermission permission) throws IOException {
        short mode = permission.toShort();
        if ((mode & ~0777) != 0) {
            super.setPermission(path, permission);
            return;
        }
        Set<PosixFilePermission> bits = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < MODE_BITS.length; i++) {
            if ((mode & (1 << i)) != 0) {
                bits.add(MODE_BITS[i]);
            }
        }
        Files.setPosixFilePermissions(pathToFile(path).toPath(), bits);
    }
}
