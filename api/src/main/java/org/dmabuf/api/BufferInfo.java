package org.dmabuf.api;

import java.util.List;

/**
 * One line of {@code bufinfo}: a snapshot of a live buffer, like the kernel's
 * {@code /sys/kernel/debug/dma_buf/bufinfo}. Immutable and thread-safe; values are as of the snapshot.
 *
 * @param id the buffer's identity ({@code st_dev}, {@code st_ino}); {@link BufferId#NONE} while it has no storage
 * @param size bytes: the storage's real size as the kernel reports it once committed, else the requested size
 * @param requestedSize the size asked for at creation (or reported at adoption)
 * @param name the name, empty when none
 * @param expName the kernel's {@code exp_name} ({@code memfd} for a sealed memfd), empty while it has no storage
 * @param exporter the exporter service's name ({@code dmabuf.exporter.name}), empty while it has no storage
 * @param kind {@code "dma-buf"}, {@code "memfd"}, or {@code "pending"} while it has no storage
 * @param refCount references over all handles and open CPU accesses
 * @param attachedDevices the names of the attached devices, one entry per attachment
 * @param kernelDevices the kernel's names ({@link ImporterDevice#kernelName()}) of the attached devices that hold a
 *        kernel attachment, one entry per such attachment: what the kernel's bufinfo lists under "Attached Devices"
 * @param mappings device mappings (sg tables) that are live
 * @param cpuMapped whether the CPU mapping exists
 * @param owner the bundle that created the buffer ({@code symbolic.name [id]}), or the process-level owner
 * @param format the image's layout, as {@link DmaBuf#format()} reports it, if the buffer holds a whole image
 *        (since 1.2)
 */
public record BufferInfo(BufferId id, long size, long requestedSize, String name, String expName, String exporter,
        String kind, int refCount, List<String> attachedDevices, List<String> kernelDevices, int mappings,
        boolean cpuMapped, String owner, java.util.Optional<BufferFormat> format) {
    /** Copies the device lists. */
    public BufferInfo {
        attachedDevices = List.copyOf(attachedDevices);
        kernelDevices = List.copyOf(kernelDevices);
        java.util.Objects.requireNonNull(format, "format");
    }

    /**
     * The inode number, as the kernel's bufinfo prints it ({@code ino}); unique only within {@link BufferId#dev()}.
     *
     * @return {@code id().inode()}
     */
    public long inode() {
        return id.inode();
    }
}
