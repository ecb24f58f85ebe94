using Microsoft.Extensions.Hosting;

namespace CodecLlm.Server;

/// <summary>
/// Replaces ASP.NET Core's console lifetime, which would take Ctrl+C and SIGTERM for itself: the server is
/// a library, so whoever hosts it (the CLI's cancellation token, a test, an application) decides when it stops.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
