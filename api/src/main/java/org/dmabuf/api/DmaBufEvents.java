package org.dmabuf.api;

/**
 * The OSGi EventAdmin topics and event properties the registry posts, so that monitoring code can follow buffers
 * and exporters without polling {@code bufinfo}. Events are posted asynchronously.
 */
public final class DmaBufEvents {
    /** A buffer was created (with or without storage). */
    public static final String TOPIC_BUFFER_CREATED = "org/dmabuf/buffer/CREATED";
    /** A device attached to a buffer; {@link #DEVICE} names it. */
    public static final String TOPIC_BUFFER_ATTACHED = "org/dmabuf/buffer/ATTACHED";
    /** A buffer's last reference was dropped and its storage released. */
    public static final String TOPIC_BUFFER_RELEASED = "org/dmabuf/buffer/RELEASED";
    /** An exporter service was bound by the registry. */
    public static final String TOPIC_EXPORTER_ADDED = "org/dmabuf/exporter/ADDED";
    /** An exporter service went away. */
    public static final String TOPIC_EXPORTER_REMOVED = "org/dmabuf/exporter/REMOVED";
    /** Every topic, as a wildcard subscription. */
    public static final String TOPIC_ALL = "org/dmabuf/*";

    /**
     * Property (Long): the buffer's inode, 0 while it has no storage; unique only together with {@link #DEV}.
     */
    public static final String INODE = "dmabuf.inode";
    /**
     * Property (Long): the device of the buffer's file ({@code st_dev}), 0 while it has no storage: with
     * {@link #INODE}, the buffer's identity ({@link BufferId}).
     *
     * @since 1.1
     */
    public static final String DEV = "dmabuf.dev";
    /** Property (String): the kernel's {@code exp_name}, empty while it has no storage. @since 1.1 */
    public static final String EXP_NAME = "dmabuf.exp_name";
    /** Property (Long): the buffer's size. */
    public static final String SIZE = "dmabuf.size";
    /** Property (String): the buffer's name. */
    public static final String NAME = "dmabuf.name";
    /**
     * Property (String): the exporter service's name ({@code dmabuf.exporter.name}), empty while the buffer has no
     * storage.
     */
    public static final String EXPORTER = "dmabuf.exporter";
    /** Property (String): the buffer's owner. */
    public static final String OWNER = "dmabuf.owner";
    /** Property (String): the attached device's name. */
    public static final String DEVICE = "dmabuf.device";

    private DmaBufEvents() {
    }
}
