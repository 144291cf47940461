package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Parsing {@code /proc/self/fdinfo} of a dma-buf whose name a peer chose. */
class FdInfoTest {
    private static final String HEAD = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1093\nsize:\t12288\n"
            + "count:\t1\nexp_name:\tsystem\n";

    @Test
    void theKernelsLinesAreRead() {
        FdInfo i = FdInfo.parse(HEAD + "name:\tframe-0\n");
        assertThat(i.flags()).isEqualTo(02000002);
        assertThat(i.inode()).isEqualTo(1093);
        assertThat(i.size()).isEqualTo(12288);
        assertThat(i.count()).isEqualTo(1);
        assertThat(i.expName()).isEqualTo("system");
        assertThat(i.name()).isEqualTo("frame-0");
        assertThat(FdInfo.parse(HEAD).name()).as("no name line").isEmpty();
    }

    @Test
    void aNameWithNewlinesCannotForgeTheExporter() {
        FdInfo i = FdInfo.parse(HEAD + "name:\tx\nexp_name:\tudmabuf\n");
        assertThat(i.expName()).isEqualTo("system");
        assertThat(i.name()).isEqualTo("x\nexp_name:\tudmabuf");
    }

    @Test
    void aNameWithNewlinesCannotForgeTheSizeOrBreakTheParse() {
        FdInfo i = FdInfo.parse(HEAD + "name:\t\nsize:\tz\nino:\t1\n");
        assertThat(i.size()).isEqualTo(12288);
        assertThat(i.inode()).isEqualTo(1093);
        assertThat(i.name()).isEqualTo("\nsize:\tz\nino:\t1");
    }

    @Test
    void theFirstOccurrenceOfAKeyIsTheKernels() {
        FdInfo i = FdInfo.parse(HEAD + "exp_name:\tudmabuf\nsize:\t1\n");
        assertThat(i.expName()).isEqualTo("system");
        assertThat(i.size()).isEqualTo(12288);
    }

    @Test
    void aMalformedNumberIsATypedError() {
        assertThatThrownBy(() -> FdInfo.parse("size:\tz\n")).isInstanceOf(LinuxException.class)
                .hasMessageContaining("EPROTO").hasMessageContaining("'size:'");
    }

    @Test
    void printableEscapesControlCharacters() {
        assertThat(FdInfo.printable("a\nb\tc\u007f")).isEqualTo("a\\x0ab\\x09c\\x7f");
        assertThat(FdInfo.printable("plain")).isEqualTo("plain");
    }

    /** The kernel's text for an fd, read with java.nio as a reference. */
    private static FdInfo viaFiles(int fd) throws Exception {
        return FdInfo.parse(Files.readString(Path.of("/proc/self/fdinfo/" + fd)));
    }

    @Test
    void readingAnFdGivesWhatTheKernelWritesWhateverTheBufferHeldBefore() throws Exception {
        try (Fd memfd = Sys.memfd("fdinfo-read", LibC.MFD_ALLOW_SEALING);
             Fd file = Sys.open("/proc/self/status", LibC.O_RDONLY | LibC.O_CLOEXEC)) {
            for (int round = 0; round < 3; round++) {
                for (Fd f : new Fd[] {memfd, file}) {
                    FdInfo read = FdInfo.read(f.get());
                    assertThat(read).as("fd %d", f.get()).isEqualTo(viaFiles(f.get()));
                    assertThat(read.flags() & LibC.O_CLOEXEC).isEqualTo(LibC.O_CLOEXEC);
                    assertThat(read.isDmaBuf()).isFalse();
                }
            }
        }
    }

    @Test
    void aTextLongerThanTheBufferIsReadWhole() throws Exception {
        try (Fd memfd = Sys.memfd("fdinfo-long", LibC.MFD_ALLOW_SEALING)) {
            byte[] small = new byte[32]; // the path fills it: every byte of the text comes from a grown buffer
            assertThat(FdInfo.read(memfd.get(), small)).isEqualTo(viaFiles(memfd.get()));
        }
    }

    @Test
    void anFdNotOpenIsEbadfNamingIt() {
        int n;
        try (Fd memfd = Sys.memfd("fdinfo-closed", 0)) {
            n = memfd.get();
        }
        assertThatThrownBy(() -> FdInfo.read(n)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("EBADF").hasMessageContaining("fd " + n);
        assertThatThrownBy(() -> FdInfo.read(-1)).isInstanceOf(LinuxException.class).hasMessageContaining("EBADF");
    }
}
