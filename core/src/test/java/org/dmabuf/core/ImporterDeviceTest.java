package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Test;

/** Devices that import the buffer's fd: the core calls them once storage exists, and closes the import once. */
class ImporterDeviceTest extends RegistryFixture {
    /** Records imports as a DRM device would record GEM handles. */
    static final class RecordingDevice implements ImporterDevice {
        final List<Long> importedInodes = new CopyOnWriteArrayList<>();
        final AtomicInteger closed = new AtomicInteger();
        volatile boolean refuse;

        @Override
        public String name() {
            return "importer";
        }

        @Override
        public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
            if (refuse) {
                throw new DmaBufException("ioctl(DRM_IOCTL_PRIME_FD_TO_HANDLE)", "EINVAL", "refused for the test");
            }
            long inode = Sys.fstat(fd).inode();
            assertThat(inode).isEqualTo(buffer.inode());
            importedInodes.add(inode);
            return new Import(inode, closed);
        }
    }

    record Import(long inode, AtomicInteger closed) implements AutoCloseable {
        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }

    @Test
    void aDeviceAttachedBeforeStorageImportsAtCommitAndReleasesAtDetach() {
        RecordingDevice dev = new RecordingDevice();
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(4096))) {
            Attachment a = buf.attach(dev);
            assertThat(dev.importedInodes).isEmpty();
            assertThat(a.imported(Import.class)).isNull();
            buf.fd();
            assertThat(dev.importedInodes).containsExactly(buf.inode());
            assertThat(a.imported(Import.class).inode()).isEqualTo(buf.inode());
            a.close();
            assertThat(dev.closed).hasValue(1);
            a.close();
            assertThat(dev.closed).hasValue(1);
        }
    }

    @Test
    void aDeviceAttachedAfterStorageImportsAtOnceAndReleaseClosesIt() {
        RecordingDevice dev = new RecordingDevice();
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        buf.attach(dev);
        assertThat(dev.importedInodes).hasSize(1);
        buf.put();
        assertThat(dev.closed).hasValue(1);
        assertThat(warnings).singleElement().asString().contains("still attached");
    }

    @Test
    void aRefusedImportFailsTheAttachAndLeavesNothingAttached() {
        RecordingDevice dev = new RecordingDevice();
        dev.refuse = true;
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            assertThatThrownBy(() -> buf.attach(dev)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("PRIME_FD_TO_HANDLE");
            assertThat(system.attached.get()).isEqualTo(system.detached.get());
            assertThat(registry.bufinfo()).singleElement()
                    .satisfies(i -> assertThat(i.attachedDevices()).isEmpty());
        }
    }
}
