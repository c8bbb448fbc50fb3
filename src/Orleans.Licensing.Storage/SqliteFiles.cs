namespace Orleans.Licensing.Storage;

/// <summary>
/// The embedded store's files are its user's alone (Unix): a folder it creates is 0700, the database file 0600, and
/// SQLite creates its -wal and -shm files with the database file's mode. Grain state holds every lease and client id.
/// An existing folder or file keeps the mode its owner gave it.
/// </summary>
public static class SqliteFiles
{
    public static void Prepare(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        if (!Directory.Exists(folder)) Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Created empty before SQLite opens it (an empty file is a valid new database); another store of this process
        // may have created it first, so OpenOrCreate.
        using var _ = new FileStream(full, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
    }
}
