namespace Orleans.Licensing;

/// <summary>
/// Group commit for a reentrant grain: a request changes state, then awaits <see cref="CommitAsync"/>. One write runs
/// at a time; every change made while it runs is covered by the next write, so N concurrent requests cost about
/// two writes instead of N.
/// </summary>
internal sealed class GroupCommit(Func<Task> write)
{
    private TaskCompletionSource? _next;
    private bool _running;

    public long Writes { get; private set; }

    public Task CommitAsync()
    {
        _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batch = _next.Task;
        if (!_running)
        {
            _ = RunAsync();
        }

        return batch;
    }

    private async Task RunAsync()
    {
        _running = true;
        try
        {
            while (_next is { } batch)
            {
                _next = null;
                try
                {
                    await write();
                    Writes++;
                    batch.SetResult();
                }
                catch (Exception e)
                {
                    batch.SetException(e);
                }
            }
        }
        finally
        {
            _running = false;
        }
    }
}
