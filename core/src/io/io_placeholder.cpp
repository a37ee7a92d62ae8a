// placeholder until the io module lands
namespace otfuse {}
