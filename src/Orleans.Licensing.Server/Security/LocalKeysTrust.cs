using System.Runtime.InteropServices;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// An existing local keys folder (<see cref="LocalKeys"/>) is trusted only when nobody else could have read or planted
/// its keys: on Unix the folder and every file in it are owned by this server's user, the folder 0700 (or stricter),
/// the files 0600 (or stricter). Otherwise the server refuses to start, naming the path.
/// </summary>
public static class LocalKeysTrust
{
    private const UnixFileMode NotOwner = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.SetUser | UnixFileMode.SetGroup | UnixFileMode.StickyBit;

    public static void Check(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        Refuse(folder, File.GetUnixFileMode(folder), "0700");
        foreach (var file in Directory.EnumerateFileSystemEntries(folder))
        {
            if (Directory.Exists(file)) throw Untrusted(file, "is a folder inside the keys folder");
            Refuse(file, File.GetUnixFileMode(file), "0600");
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Refuse(string path, UnixFileMode mode, string wanted)
    {
        if ((mode & NotOwner) != 0) throw Untrusted(path, $"has mode {Octal(mode)}, not owner-only ({wanted}): chmod {wanted[1..]} '{path}'");
        if (Owner(path) is { } owner && owner != geteuid()) throw Untrusted(path, $"is owned by uid {owner}, not by this server's user (uid {geteuid()})");
    }

    private static InvalidOperationException Untrusted(string path, string why) => new(
        $"The local keys at '{path}' are not trusted: it {why}. Whoever can read or replace the keys folder is this pool's vendor and administrator. "
        + $"Fix the owner and modes (folder 0700, files 0600), or set {SecurityOptions.Section}:LocalKeys=false and provision keys.");

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);

    /// <summary>The file's owner uid (Linux statx; its layout is the same on every architecture); null where there is no statx.</summary>
    private static uint? Owner(string path)
    {
        var buffer = new byte[256];
        try
        {
            if (statx(AtFdCwd, path, 0, StatxUid, buffer) != 0) return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }

        return BitConverter.ToUInt32(buffer, 20);   // struct statx: mask, blksize, attributes (u64), nlink, then uid
    }

    private const int AtFdCwd = -100;
    private const uint StatxUid = 0x8;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc")]
    private static extern uint geteuid();
}
