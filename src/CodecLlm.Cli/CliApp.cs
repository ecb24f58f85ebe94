namespace CodecLlm.Cli;

internal static class CliApp
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
